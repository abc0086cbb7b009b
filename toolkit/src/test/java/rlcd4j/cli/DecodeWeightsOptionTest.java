package rlcd4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import rlcd4j.util.RlcdException;

/** {@code --decode-weights} on generate and serve: parsed into the load options, a wrong value named as such. */
class DecodeWeightsOptionTest {

    @Test
    void theValueReachesTheLoadOptionsOfBothCommands() {
        GenerateCommand generate = new GenerateCommand();
        new CommandLine(generate).parseArgs("--model", "m", "--prompt", "p", "--decode-weights", "checkpoint");
        assertEquals("checkpoint", generate.decoding.loading().decodeWeights());
        ServeCommand serve = new ServeCommand();
        new CommandLine(serve).parseArgs("--model", "m");
        assertEquals("fp32", serve.decoding.loading().decodeWeights());
    }

    @Test
    void aWrongValueIsOneClearError() {
        GenerateCommand generate = new GenerateCommand();
        new CommandLine(generate).parseArgs("--model", "m", "--prompt", "p", "--decode-weights", "int8");
        RlcdException e = assertThrows(RlcdException.class, generate.decoding::loading);
        assertTrue(e.getMessage().equals("--decode-weights: expected fp32 or checkpoint, got int8"), e.getMessage());
    }
}
