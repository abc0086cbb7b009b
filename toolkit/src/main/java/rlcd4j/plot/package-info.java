/** XChart plots of evaluation and training results, saved as PNG or SVG. */
package rlcd4j.plot;
