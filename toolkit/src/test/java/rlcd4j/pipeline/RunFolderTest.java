package rlcd4j.pipeline;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.ColumnType;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RunFolderTest {
    @Test
    void aSavedTableStageIsReadBackWithItsColumnTypesAndNotRecomputed(@TempDir Path dir) {
        AtomicInteger computed = new AtomicInteger();
        RunFolder run = RunFolder.at(dir);
        // Digits in a string column and whole-number doubles are what plain CSV reading gets wrong.
        java.util.function.Supplier<Table> compute = () -> {
            computed.incrementAndGet();
            return Table.create("t", StringColumn.create("id", "0", "1"), DoubleColumn.create("p_chosen", 1.0, 1.0));
        };
        Table first = run.table("stage", compute);
        Table again = RunFolder.at(dir).table("stage", compute);
        assertEquals(1, computed.get());
        assertEquals(first.types(), again.types());
        assertEquals(ColumnType.STRING, again.column("id").type());
        assertEquals(ColumnType.DOUBLE, again.column("p_chosen").type());
        assertEquals("1", again.stringColumn("id").get(1));
        assertEquals(1.0, again.doubleColumn("p_chosen").get(0));
    }
}
