/**
 * The toolkit's notebook display as a JJava extension: Tablesaw tables as HTML, XChart charts as PNG or SVG, and
 * toolkit progress as one live output line.
 */
package rlcd4j.kernel.display;
