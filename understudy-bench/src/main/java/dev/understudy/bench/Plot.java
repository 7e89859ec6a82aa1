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
    axis.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(0.25)); // in powers of ten: 10, 18, 32, 56, 100, ...
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
}
