package dev.understudy.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BoxAndWhiskerRenderer;
import org.jfree.data.statistics.DefaultBoxAndWhiskerCategoryDataset;

/** The failover time distributions as a box plot on a log scale (keepalived's default and its fastest differ 100x). */
final class Plot {
  private Plot() {}

  static void failoverDistributions(Map<String, List<Double>> series, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    DefaultBoxAndWhiskerCategoryDataset data = new DefaultBoxAndWhiskerCategoryDataset();
    for (var e : series.entrySet()) {
      if (!e.getValue().isEmpty()) data.add(e.getValue(), "failover time", e.getKey().replace('\n', ' '));
    }
    JFreeChart chart = ChartFactory.createBoxAndWhiskerChart(
        "Failover: kill -9 of the serving server -> first answer from the other (ms)", null, "ms (log scale)", data, false);
    CategoryPlot plot = chart.getCategoryPlot();
    LogAxis axis = new LogAxis("ms (log scale)");
    axis.setSmallestValue(1);
    axis.setNumberFormatOverride(new java.text.DecimalFormat("#,##0"));
    double[] range = range(series.values());
    // the auto range follows the boxes, not the whiskers and outliers: a slow tool's box was cut off at the top
    axis.setRange(range[0], range[1]);
    axis.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(tickStep(range)));
    plot.setRangeAxis(axis);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.getDomainAxis().setMaximumCategoryLabelLines(2);
    BoxAndWhiskerRenderer r = (BoxAndWhiskerRenderer) plot.getRenderer();
    r.setSeriesPaint(0, new Color(0x4c, 0x78, 0xa8));
    r.setMeanVisible(false);
    r.setMaximumBarWidth(0.12);
    ChartUtils.saveChartAsPNG(png.toFile(), chart, 1100, 560);
  }

  /** From a fifth below the smallest value to a fifth above the largest: every whisker and outlier inside. */
  static double[] range(java.util.Collection<List<Double>> series) {
    double lo = Double.MAX_VALUE;
    double hi = 0;
    for (List<Double> v : series) {
      for (double x : v) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
    if (hi <= 0) return new double[] {1, 10};
    return new double[] {Math.max(1, lo / 1.2), Math.max(hi * 1.2, Math.max(1, lo / 1.2) * 1.5)};
  }

  /** A tick step in powers of ten giving 5-10 labelled ticks over the range (a narrow range got none at 0.25). */
  static double tickStep(double[] range) {
    double decades = Math.log10(range[1] / range[0]);
    for (double step : new double[] {0.02, 0.05, 0.1, 0.25, 0.5, 1}) if (decades / step <= 10) return step;
    return 1;
  }
}
