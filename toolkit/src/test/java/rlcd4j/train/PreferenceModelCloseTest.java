package rlcd4j.train;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rlcd4j.Fixtures;
import rlcd4j.engine.CausalLM;
import rlcd4j.engine.llama.LoraAdapter;

/** A preference model closes what it loaded, and only that. */
class PreferenceModelCloseTest {
    @Test
    void aLoadedFullModelClosesItsOwnBackbone(@TempDir Path dir) {
        try (CausalLM lm = CausalLM.load(Fixtures.tinyStories())) {
            try (PreferenceModel pm = PreferenceModel.create(lm, null, 64, 0)) {
                pm.save(dir);
            }
            assertTrue(lm.manager().isOpen(), "a created model does not close the caller's backbone");
        }
        PreferenceModel loaded = PreferenceModel.load(dir, null);
        CausalLM backbone = loaded.backbone();
        assertTrue(backbone.manager().isOpen());
        loaded.close();
        assertFalse(backbone.manager().isOpen(), "the backbone load() read from backbone/ is closed with the model");
    }

    @Test
    void aLoraModelLeavesTheCallersBaseOpen(@TempDir Path dir) {
        try (CausalLM base = CausalLM.load(Fixtures.tinyStories())) {
            try (PreferenceModel pm = PreferenceModel.create(base, LoraAdapter.Config.defaults(), 64, 0)) {
                pm.save(dir);
            }
            try (PreferenceModel loaded = PreferenceModel.load(dir, base)) {
                assertTrue(loaded.backbone() == base);
            }
            assertTrue(base.manager().isOpen(), "the caller's base model stays open");
        }
    }
}
