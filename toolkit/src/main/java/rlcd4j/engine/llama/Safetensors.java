package rlcd4j.engine.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import rlcd4j.util.RlcdException;

/**
 * Reads and writes the safetensors format (an 8-byte little-endian header length, a JSON header of
 * {@code name -> {dtype, shape, data_offsets}}, then raw little-endian data).
 *
 * <p>Reading maps one tensor at a time from the file, so neither the 2 GiB {@code byte[]} limit nor the heap applies.
 * BF16 is widened to FP32 in Java: DJL 0.36's JNI has no BF16 type and aborts the JVM on it.
 */
public final class Safetensors {
    private Safetensors() {}

    /** Where one tensor lives: its file and byte range within that file. */
    public record TensorInfo(String name, String dtype, long[] shape, Path file, long offset, long length) {
        public long numel() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    /**
     * Indexes the tensors of a model folder: {@code model.safetensors}, or the shards named by
     * {@code model.safetensors.index.json}.
     */
    public static Map<String, TensorInfo> indexFolder(Path dir) {
        Path single = dir.resolve("model.safetensors");
        Path index = dir.resolve("model.safetensors.index.json");
        if (Files.exists(single)) return index(single);
        if (!Files.exists(index)) {
            throw new RlcdException(dir
                    + ": no model.safetensors and no model.safetensors.index.json; expected Hugging Face safetensors weights"
                    + (Files.exists(dir.resolve("pytorch_model.bin"))
                            ? " (pytorch_model.bin is a pickle, which this engine does not read; convert it with safetensors' convert script)"
                            : ""));
        }
        JsonObject idx;
        try {
            idx = JsonParser.parseString(Files.readString(index)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new RlcdException(index + ": malformed JSON: " + e.getMessage(), e);
        }
        if (!idx.has("weight_map") || !idx.get("weight_map").isJsonObject()) {
            throw new RlcdException(index + ": field weight_map is missing; expected {tensor name: shard file}");
        }
        Map<String, TensorInfo> all = new LinkedHashMap<>();
        Map<String, Map<String, TensorInfo>> shards = new TreeMap<>();
        for (var e : idx.getAsJsonObject("weight_map").entrySet()) {
            String shard = e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : "";
            if (!shard.endsWith(".safetensors") || shard.contains("/") || shard.contains("\\")) {
                throw new RlcdException(index + ": weight_map." + e.getKey() + " is " + e.getValue()
                        + "; expected the name of a .safetensors shard in the same folder");
            }
            if (!Files.exists(dir.resolve(shard))) {
                throw new RlcdException(dir.resolve(shard) + ": missing; " + index.getFileName()
                        + " names it as the shard of " + e.getKey());
            }
            Map<String, TensorInfo> inShard = shards.computeIfAbsent(shard, s -> index(dir.resolve(s)));
            TensorInfo t = inShard.get(e.getKey());
            if (t == null)
                throw new RlcdException(dir.resolve(shard) + ": tensor " + e.getKey() + " is listed in "
                        + index.getFileName() + " but absent from the shard");
            all.put(e.getKey(), t);
        }
        return all;
    }

    /** Reads and validates the header of one safetensors file. */
    public static Map<String, TensorInfo> index(Path file) {
        if (!Files.exists(file)) throw new RlcdException(file + ": missing");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8)
                throw new RlcdException(file + ": truncated (" + size + " bytes); expected a safetensors header");
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lb, 0);
            long headerLen = lb.getLong(0);
            if (headerLen <= 1 || headerLen > 100_000_000L || 8 + headerLen > size) {
                throw new RlcdException(file + ": corrupt or truncated: header length " + headerLen
                        + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8);
            JsonObject header;
            try {
                JsonElement el = JsonParser.parseString(new String(hb.array(), StandardCharsets.UTF_8).trim());
                header = el.getAsJsonObject();
            } catch (RuntimeException e) {
                throw new RlcdException(file + ": corrupt: the header is not a JSON object (" + e.getMessage() + ")");
            }
            long dataStart = 8 + headerLen;
            Map<String, TensorInfo> out = new LinkedHashMap<>();
            for (var e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) continue;
                String dtype;
                long[] shape;
                long start, end;
                try {
                    JsonObject t = e.getValue().getAsJsonObject();
                    dtype = t.get("dtype").getAsString();
                    JsonArray shapeJ = t.getAsJsonArray("shape");
                    shape = new long[shapeJ.size()];
                    for (int i = 0; i < shape.length; i++) {
                        shape[i] = shapeJ.get(i).getAsLong();
                        if (shape[i] < 0) throw new IllegalArgumentException("negative dimension");
                    }
                    JsonArray off = t.getAsJsonArray("data_offsets");
                    if (off.size() != 2)
                        throw new IllegalArgumentException("data_offsets has " + off.size() + " numbers");
                    start = off.get(0).getAsLong();
                    end = off.get(1).getAsLong();
                    if (start < 0) throw new IllegalArgumentException("negative offset");
                } catch (RuntimeException bad) {
                    throw new RlcdException(
                            file + ": corrupt: header entry of tensor " + e.getKey() + " is " + e.getValue()
                                    + "; expected {\"dtype\": \"F32\", \"shape\": [..], \"data_offsets\": [start, end]}");
                }
                TensorInfo info = new TensorInfo(e.getKey(), dtype, shape, file, dataStart + start, end - start);
                long expected = info.numel() * bytesPer(dtype, file, e.getKey());
                if (end < start || expected != end - start) {
                    throw new RlcdException(
                            file + ": corrupt: tensor " + e.getKey() + " has " + (end - start) + " bytes but its shape "
                                    + java.util.Arrays.toString(shape) + " and dtype " + dtype + " need " + expected);
                }
                if (dataStart + end > size) {
                    throw new RlcdException(file + ": truncated: tensor " + e.getKey() + " ends at byte "
                            + (dataStart + end) + " but the file has " + size + " bytes");
                }
                out.put(e.getKey(), info);
            }
            return out;
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static long bytesPer(String dtype, Path file, String name) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            case "I8", "U8", "BOOL" -> 1;
            default ->
                throw new RlcdException(file + ": tensor " + name + " has dtype " + dtype
                        + "; expected F32, F16, BF16, F64, I64, I32, I16, I8, U8 or BOOL");
        };
    }

    /**
     * Loads one tensor into {@code manager} as {@code target} (FLOAT32 or FLOAT16 for floating weights; integer
     * tensors keep their type). The bytes are mapped, not read into the heap.
     */
    public static NDArray load(NDManager manager, TensorInfo t, DataType target) {
        Shape shape = new Shape(t.shape());
        try (FileChannel ch = FileChannel.open(t.file(), StandardOpenOption.READ)) {
            NDArray arr;
            switch (t.dtype()) {
                case "BF16" -> {
                    // bf16 is the top half of an fp32: widen by a 16-bit shift, chunk by chunk.
                    ByteBuffer f32 = ByteBuffer.allocateDirect(Math.toIntExact(t.numel() * 4))
                            .order(ByteOrder.nativeOrder());
                    long done = 0, chunk = 1L << 26;
                    while (done < t.length()) {
                        long n = Math.min(chunk, t.length() - done);
                        MappedByteBuffer mb = ch.map(FileChannel.MapMode.READ_ONLY, t.offset() + done, n);
                        mb.order(ByteOrder.LITTLE_ENDIAN);
                        for (int i = 0; i < n / 2; i++) f32.putInt((mb.getShort(2 * i) & 0xFFFF) << 16);
                        done += n;
                    }
                    f32.rewind();
                    arr = manager.create(f32, shape, DataType.FLOAT32);
                }
                default -> {
                    // Mapped, then copied once into memory libtorch owns: DJL would otherwise wrap the mapped pages
                    // directly, read-only, and the first in-place update (an optimiser step) would crash libtorch.
                    MappedByteBuffer mb = ch.map(FileChannel.MapMode.READ_ONLY, t.offset(), t.length());
                    mb.order(ByteOrder.LITTLE_ENDIAN);
                    try (NDArray mapped = manager.create(mb, shape, djlType(t))) {
                        arr = mapped.duplicate();
                    }
                }
            }
            if (arr.getDataType().isFloating() && target != null && arr.getDataType() != target) {
                NDArray cast = arr.toType(target, false);
                arr.close();
                arr = cast;
            }
            arr.setName(t.name());
            return arr;
        } catch (IOException e) {
            throw new RlcdException(t.file() + ": cannot read tensor " + t.name() + ": " + e.getMessage(), e);
        }
    }

    private static DataType djlType(TensorInfo t) {
        return switch (t.dtype()) {
            case "F32" -> DataType.FLOAT32;
            case "F16" -> DataType.FLOAT16;
            case "F64" -> DataType.FLOAT64;
            case "I64" -> DataType.INT64;
            case "I32" -> DataType.INT32;
            case "I8" -> DataType.INT8;
            case "U8" -> DataType.UINT8;
            case "BOOL" -> DataType.BOOLEAN;
            default ->
                throw new RlcdException(
                        t.file() + ": tensor " + t.name() + ": dtype " + t.dtype() + " cannot be loaded");
        };
    }

    /** Loads every tensor of a file. */
    public static Map<String, NDArray> loadAll(NDManager manager, Path file, DataType target) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (TensorInfo t : index(file).values()) out.put(t.name(), load(manager, t, target));
        return out;
    }

    /**
     * Writes tensors as a safetensors file the way Hugging Face's library does (sorted names, header padded with
     * spaces to a multiple of 8, {@code __metadata__.format = "pt"}), to a temporary file renamed into place, so a
     * crash never leaves a half-written file under the final name.
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) {
        Map<String, NDArray> sorted = new TreeMap<>(tensors);
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        if (metadata != null) metadata.forEach(meta::addProperty);
        header.add("__metadata__", meta);
        long offset = 0;
        List<NDArray> order = new ArrayList<>();
        for (var e : sorted.entrySet()) {
            NDArray a = e.getValue();
            String dtype = switch (a.getDataType()) {
                case FLOAT32 -> "F32";
                case FLOAT16 -> "F16";
                case FLOAT64 -> "F64";
                case INT64 -> "I64";
                case INT32 -> "I32";
                case INT8 -> "I8";
                case UINT8 -> "U8";
                case BOOLEAN -> "BOOL";
                default ->
                    throw new RlcdException(
                            file + ": cannot write tensor " + e.getKey() + " of type " + a.getDataType());
            };
            long bytes = a.size() * a.getDataType().getNumOfBytes();
            JsonObject t = new JsonObject();
            t.addProperty("dtype", dtype);
            JsonArray shape = new JsonArray();
            for (long d : a.getShape().getShape()) shape.add(d);
            t.add("shape", shape);
            JsonArray off = new JsonArray();
            off.add(offset);
            off.add(offset + bytes);
            t.add("data_offsets", off);
            header.add(e.getKey(), t);
            offset += bytes;
            order.add(a);
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer hb = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        hb.putLong(padded).put(h);
        while (hb.hasRemaining()) hb.put((byte) ' ');
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (OutputStream os = Files.newOutputStream(tmp)) {
                os.write(hb.array());
                for (NDArray a : order) {
                    ByteBuffer data = a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                    byte[] buf = new byte[data.remaining()];
                    data.get(buf);
                    os.write(buf);
                }
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }
}
