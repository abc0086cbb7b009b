package rlcd4j.sandbox;

import rlcd4j.util.RlcdException;

/** The sandbox world's three tasks, mirroring the paper's harmlessness, helpfulness and outlining. */
public enum SandboxTask {
    HARMLESS("harmless"),
    HELPFUL("helpful"),
    OUTLINE("outline");

    private final String id;

    SandboxTask(String id) {
        this.id = id;
    }

    /** The lower-case name used in files ({@code task} fields, file names). */
    public String id() {
        return id;
    }

    public static SandboxTask of(String id) {
        for (SandboxTask t : values()) if (t.id.equals(id)) return t;
        throw new RlcdException("unknown sandbox task '" + id + "': expected harmless, helpful or outline");
    }

    @Override
    public String toString() {
        return id;
    }
}
