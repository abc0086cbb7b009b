package rlcd4j.data;

import java.nio.file.Path;
import rlcd4j.hub.HfHub;
import rlcd4j.util.RlcdException;

/**
 * Where prompts come from, as one string (the CLI's {@code --prompts}):
 * <ul>
 *   <li>{@code hh:SUBSET/SPLIT}: an Anthropic HH-RLHF file, e.g. {@code hh:harmless-base/train} =
 *       dataset {@code Anthropic/hh-rlhf}, file {@code harmless-base/train.jsonl.gz};</li>
 *   <li>{@code hf:ORG/NAME/PATH} or {@code hf:ORG/NAME@REVISION/PATH}: any file of a Hugging Face dataset repo, e.g.
 *       {@code hf:Anthropic/hh-rlhf/helpful-base/test.jsonl.gz};</li>
 *   <li>anything else: a local file.</li>
 * </ul>
 * Hub files come from the Hugging Face cache when they are there, else are downloaded into it ({@link HfHub}).
 */
public final class PromptSource {
    private PromptSource() {}

    /** The local file {@code spec} names, downloading a Hub file into the cache first when needed. */
    public static Path resolve(String spec, HfHub hub) {
        if (spec.startsWith("hh:")) {
            String rest = spec.substring(3);
            int slash = rest.indexOf('/');
            if (slash < 0)
                throw new RlcdException(
                        "prompts '" + spec + "': expected hh:SUBSET/SPLIT, e.g. hh:harmless-base/train");
            String file = HhRlhf.hubFilename(rest.substring(0, slash), rest.substring(slash + 1));
            return hub.downloadFile("dataset", HhRlhf.HUB_REPO, null, file);
        }
        if (spec.startsWith("hf:")) {
            String[] parts = spec.substring(3).split("/", 3);
            if (parts.length < 3 || parts[0].isEmpty() || parts[1].isEmpty() || parts[2].isEmpty()) {
                throw new RlcdException(
                        "prompts '" + spec + "': expected hf:ORG/NAME/PATH (or hf:ORG/NAME@REVISION/PATH), "
                                + "e.g. hf:Anthropic/hh-rlhf/harmless-base/train.jsonl.gz");
            }
            String name = parts[1], revision = null;
            int at = name.indexOf('@');
            if (at >= 0) {
                revision = name.substring(at + 1);
                name = name.substring(0, at);
            }
            return hub.downloadFile("dataset", parts[0] + "/" + name, revision, parts[2]);
        }
        return Path.of(spec);
    }

    /** {@link PromptSet#load(Path, String, boolean)} of the resolved file. */
    public static PromptSet load(String spec, String task, boolean strict, HfHub hub) {
        return PromptSet.load(resolve(spec, hub), task, strict);
    }
}
