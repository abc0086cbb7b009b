package rlcd4j.sandbox;

import java.util.List;

/**
 * A sandbox conversation in the paper's transcript format: {@code "Human: ...\n\nAssistant: ...\n\nHuman: ..."}; an
 * assistant turn with a description reads {@code "Assistant (description): ..."}. The last exchange is the one of the
 * dialogue's task; earlier ones are small talk or other requests of the same task.
 */
public record Dialogue(SandboxTask task, List<Exchange> exchanges) {
    public Dialogue {
        exchanges = List.copyOf(exchanges);
        if (exchanges.isEmpty()) throw new IllegalArgumentException("a dialogue needs at least one exchange");
    }

    /**
     * The pretraining document: every turn, ending with an empty {@code "\n\nHuman:"} so the model learns to close its
     * answer by opening the next human turn (what the paper's post-processing and the RM's end token expect).
     */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (Exchange e : exchanges) appendExchange(sb, e);
        return sb.append("\n\nHuman:").toString();
    }

    /** Everything up to and including the last {@code "\n\nAssistant:"}, as an HH-RLHF prompt after extraction. */
    public String prompt() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < exchanges.size() - 1; i++) appendExchange(sb, exchanges.get(i));
        if (sb.length() > 0) sb.append("\n\n");
        return sb.append("Human: ")
                .append(last().human())
                .append("\n\nAssistant:")
                .toString();
    }

    /** The last assistant answer (no leading space). */
    public String answer() {
        return last().assistant();
    }

    public Exchange last() {
        return exchanges.get(exchanges.size() - 1);
    }

    /** The key of the final request (see {@link SandboxWorld}). */
    public String key() {
        return last().key();
    }

    private static void appendExchange(StringBuilder sb, Exchange e) {
        if (sb.length() > 0) sb.append("\n\n");
        sb.append("Human: ").append(e.human()).append("\n\nAssistant");
        if (e.description() != null) sb.append(' ').append(e.description());
        sb.append(": ").append(e.assistant());
    }
}
