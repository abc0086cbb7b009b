/** The Jupyter kernel: JShell cells with the toolkit built in. */
package rlcd4j.kernel;
