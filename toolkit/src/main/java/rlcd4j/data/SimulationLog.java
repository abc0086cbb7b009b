package rlcd4j.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import rlcd4j.util.Json;
import rlcd4j.util.RlcdException;
import tech.tablesaw.api.Table;

/**
 * The simulation's output file: append-only JSONL, one {@link PairRow} per finished prompt (ok, dropped or error),
 * each line written with one write call and fsynced before {@link #append} returns.
 *
 * <p>Resuming: a run killed at any moment leaves at most one torn last line (no trailing newline). {@link #open}
 * repairs it — a torn line that is still a complete row gets its newline, anything else is cut off — and
 * {@link #done()} returns the ids already finished, which a resumed run skips. So no finished pair is lost and
 * none is written twice ({@link #append} refuses an id already in the file).
 */
public final class SimulationLog implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final Set<Integer> done;
    private final long repairedBytes;

    private SimulationLog(Path file, FileChannel channel, Set<Integer> done, long repairedBytes) {
        this.file = file;
        this.channel = channel;
        this.done = done;
        this.repairedBytes = repairedBytes;
    }

    /** Opens (creating if absent) a log for appending, after repairing a torn last line. */
    public static SimulationLog open(Path file) {
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
            FileChannel ch = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                Scan scan = scan(file, readAll(ch));
                long repaired = 0;
                if (scan.tornStart >= 0) {
                    repaired = ch.size() - scan.tornStart;
                    ch.truncate(scan.tornStart);
                    if (scan.tornRow != null) {
                        ch.position(ch.size());
                        writeFully(ch, (scan.tornRow + "\n").getBytes(StandardCharsets.UTF_8));
                        repaired = 0;
                    }
                    ch.force(true);
                }
                ch.position(ch.size());
                Set<Integer> ids = new LinkedHashSet<>();
                for (PairRow r : scan.rows) ids.add(r.id());
                if (scan.tornRow != null)
                    ids.add(PairsTable.fromJson(Json.parseObject(scan.tornRow)).id());
                return new SimulationLog(file, ch, ids, repaired);
            } catch (RuntimeException | IOException e) {
                ch.close();
                throw e;
            }
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot open the simulation log (" + e.getMessage() + ")", e);
        }
    }

    /** Reads a log without modifying it; a torn last line is ignored (it is repaired by the next {@link #open}). */
    public static List<PairRow> read(Path file) {
        if (!Files.isRegularFile(file)) throw new RlcdException(file + ": no such file");
        try {
            Scan s = scan(file, Files.readAllBytes(file));
            List<PairRow> rows = new ArrayList<>(s.rows);
            if (s.tornRow != null) rows.add(PairsTable.fromJson(Json.parseObject(s.tornRow)));
            return rows;
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** The log as a pairs table, rows in file order. */
    public static Table readTable(Path file) {
        return PairsTable.toTable(file.getFileName().toString(), read(file));
    }

    /** Ids already finished (any status). */
    public synchronized Set<Integer> done() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(done));
    }

    public synchronized boolean isDone(int id) {
        return done.contains(id);
    }

    /** Bytes of a torn, incomplete last line cut off by {@link #open} (0 if none). */
    public long repairedBytes() {
        return repairedBytes;
    }

    public Path file() {
        return file;
    }

    /** Appends one finished row and forces it to disk. */
    public synchronized void append(PairRow row) {
        if (done.contains(row.id())) {
            throw new RlcdException(file + ": id " + row.id() + " is already in the log; refusing to write it twice");
        }
        byte[] line = (Json.write(PairsTable.toJson(row)) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            writeFully(channel, line);
            channel.force(false);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot append (" + e.getMessage() + ")", e);
        }
        done.add(row.id());
    }

    /** Appends several rows with one write and one fsync (e.g. a dry run's whole plan); ids must be new. */
    public synchronized void appendAll(java.util.Collection<PairRow> rows) {
        StringBuilder sb = new StringBuilder();
        Set<Integer> ids = new LinkedHashSet<>();
        for (PairRow r : rows) {
            if (done.contains(r.id()) || !ids.add(r.id())) {
                throw new RlcdException(file + ": id " + r.id() + " is already in the log; refusing to write it twice");
            }
            sb.append(Json.write(PairsTable.toJson(r))).append('\n');
        }
        try {
            writeFully(channel, sb.toString().getBytes(StandardCharsets.UTF_8));
            channel.force(false);
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot append (" + e.getMessage() + ")", e);
        }
        done.addAll(ids);
    }

    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new RlcdException(file + ": cannot close (" + e.getMessage() + ")", e);
        }
    }

    private record Scan(List<PairRow> rows, long tornStart, String tornRow) {}

    /**
     * Complete lines must be rows (else an error naming the line: that is corruption, not a kill); a last line
     * without a newline is torn: {@code tornRow} is its text when it still parses as a complete row.
     */
    private static Scan scan(Path file, byte[] bytes) {
        List<PairRow> rows = new ArrayList<>();
        Set<Integer> ids = new LinkedHashSet<>();
        int start = 0, lineNo = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') continue;
            lineNo++;
            String text = new String(bytes, start, i - start, StandardCharsets.UTF_8);
            start = i + 1;
            if (text.isBlank()) continue;
            PairRow r;
            try {
                r = PairsTable.fromJson(Json.parseObject(text));
            } catch (IllegalArgumentException e) {
                throw RlcdException.at(
                        file, lineNo, "not a pairs-table row (" + e.getMessage() + "); the log is corrupted here");
            }
            if (!ids.add(r.id())) throw RlcdException.at(file, lineNo, "duplicate id " + r.id() + " in the log");
            rows.add(r);
        }
        if (start == bytes.length) return new Scan(rows, -1, null);
        String torn = new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8);
        String complete = null;
        try {
            PairRow r = PairsTable.fromJson(Json.parseObject(torn));
            if (!ids.contains(r.id())) complete = torn;
        } catch (IllegalArgumentException e) {
            // an incomplete row from a kill mid-write: cut it off
        }
        return new Scan(rows, start, complete);
    }

    private static byte[] readAll(FileChannel ch) throws IOException {
        long size = ch.size();
        if (size > Integer.MAX_VALUE - 16) throw new IOException("log larger than 2 GB");
        ByteBuffer buf = ByteBuffer.allocate((int) size);
        ch.position(0);
        while (buf.hasRemaining() && ch.read(buf) >= 0) {
            /* keep reading */
        }
        return buf.array();
    }

    private static void writeFully(FileChannel ch, byte[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) ch.write(buf);
    }
}
