package rlcd4j.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    static JsonObject tree() {
        JsonObject o = new JsonObject();
        o.addProperty("text", "<b>Tom & Jerry's</b> = \"x\"\n\u2028");
        o.add("missing", JsonNull.INSTANCE);
        o.addProperty("nan", Double.NaN);
        o.addProperty("n", 0.1);
        JsonArray a = new JsonArray();
        a.add(1);
        a.add(JsonNull.INSTANCE);
        o.add("list", a);
        return o;
    }

    /** Byte for byte what the former per-class Gson instances wrote, so existing files and logs stay as they were. */
    @Test
    void treesAreWrittenAsTheFormerInstancesWroteThem() {
        GsonBuilder jsonlLogs = new GsonBuilder().disableHtmlEscaping().serializeNulls(); // Json's before issue 21
        assertEquals(jsonlLogs.create().toJson(tree()), Json.write(tree()));
        GsonBuilder tokenizerJson =
                new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls();
        assertEquals(tokenizerJson.create().toJson(tree()), Json.writePretty(tree())); // BpeTrainer's before
        assertTrue(Json.write(tree()).contains("\"missing\":null"));
        assertTrue(Json.write(tree()).contains("<b>Tom & Jerry's</b>"), "no HTML escaping");
    }

    @Test
    void objectsLeaveNullFieldsOutAndTextUnescaped() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", "<x>");
        m.put("b", null);
        assertEquals("{\"a\":\"<x>\"}", Json.GSON.toJson(m));
        assertEquals("{\n  \"a\": \"<x>\"\n}", Json.PRETTY.toJson(m));
    }

    @Test
    void parseObjectIsStrictAndSaysWhere() {
        assertEquals("x", Json.parseObject("{\"a\":\"x\"}").get("a").getAsString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parseObject("{a:1}"));
        assertTrue(e.getMessage().startsWith("malformed JSON (at column"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.parseObject("{\"a\":1"));
        assertTrue(e.getMessage().contains("the line ends early"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.parseObject("[1]"));
        assertEquals("expected a JSON object, got an array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Json.parseObject("{} x"));
        assertTrue(e.getMessage().startsWith("malformed JSON"), e.getMessage());
    }

    /** The point: no com.google.gson.internal API, whose classes may change in any Gson release. */
    @Test
    void noInternalGsonApiInTheMainCode() throws Exception {
        Path root = Path.of(System.getProperty("rlcd4j.root", ".."));
        for (String module : new String[] {"toolkit", "kernel"}) {
            try (var files = Files.walk(root.resolve(module).resolve("src/main/java"))) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                    assertFalse(Files.readString(f).contains("com.google.gson.internal"), f.toString());
                }
            }
        }
    }
}
