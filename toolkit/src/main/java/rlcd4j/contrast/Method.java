package rlcd4j.contrast;

import java.util.Locale;
import rlcd4j.util.RlcdException;

/** How a preference pair is simulated. */
public enum Method {
    /** o+ from p+, o- from p-, o+ preferred (hard label 1.0). */
    RLCD("rlcd"),
    /** Two samples from the unmodified prompt, labelled by RLAIF scoring with a randomly drawn instruction. */
    RLAIF("rlaif"),
    /** RLCD's two outputs shuffled into (A, B) and labelled by RLAIF scoring with the instruction of the pair's index. */
    RLCD_RESCORE("rlcd-rescore");

    private final String id;

    Method(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** Whether the label comes from RLAIF scoring (soft) rather than by construction. */
    public boolean scored() {
        return this != RLCD;
    }

    /** Parses {@code rlcd|rlaif|rlcd-rescore} (the official {@code rlcd_rescore} too). */
    public static Method parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Method m : values()) if (m.id.equals(t)) return m;
        throw new RlcdException("unknown method '" + s + "'; expected rlcd, rlaif or rlcd-rescore");
    }

    @Override
    public String toString() {
        return id;
    }
}
