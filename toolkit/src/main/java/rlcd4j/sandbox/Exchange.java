package rlcd4j.sandbox;

/**
 * One human turn and the assistant's answer. {@code key}, {@code good} and {@code flaw} are the generator's truth
 * (null for small talk); {@code description} is the paper-format description on the assistant turn, or null.
 * The flaw names what makes a bad answer bad ("assists", "insults", "evasive", "wrong", "boring", "disordered",
 * "off-topic"), or "none".
 */
public record Exchange(String human, String assistant, String key, Boolean good, String flaw, String description) {}
