package rlcd4j.kernel.display;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/** Any XChart chart as a PNG, or as SVG when asked ({@code display(chart, "image/svg+xml")} or the default format). */
public final class ChartDisplay {
    public static final MIMEType PNG = MIMEType.parse("image/png");
    public static final MIMEType SVG = MIMEType.parse("image/svg+xml");
    private static volatile boolean svgByDefault =
            "svg".equalsIgnoreCase(System.getProperty("rlcd4j.chart.format", "png"));

    private ChartDisplay() {}

    /** "png" or "svg": what a chart at the end of a cell turns into. */
    public static void setDefaultFormat(String format) {
        switch (format.toLowerCase(Locale.ROOT)) {
            case "png" -> svgByDefault = false;
            case "svg" -> svgByDefault = true;
            default ->
                throw new IllegalArgumentException("chart format must be \"png\" or \"svg\", got \"" + format + "\"");
        }
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    public static void register(Renderer renderer) {
        renderer.createRegistration(Chart.class).preferring(PNG).supporting(SVG).register((chart, ctx) -> {
            Chart<?, ?> c = (Chart<?, ?>) chart;
            boolean svgWanted = ctx.wantsDataRenderedAs(SVG);
            if (svgByDefault && !svgWanted && ctx.wantsDataRenderedAs(PNG)) {
                ctx.getOutputContainer().putData(SVG, svg(c));
                return;
            }
            ctx.renderIfRequested(PNG, () -> png(c));
            ctx.renderIfRequested(SVG, () -> svg(c));
        });
    }

    /** Base64 PNG, as Jupyter wants image data. */
    public static String png(Chart<?, ?> chart) {
        try {
            return Base64.getEncoder()
                    .encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String svg(Chart<?, ?> chart) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            VectorGraphicsEncoder.saveVectorGraphic(chart, out, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            return out.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
