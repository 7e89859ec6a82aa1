package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.understudy.testing.Ports;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real browser (Debian's chromium, headless) against a real local cluster: it shows a failover
 * live and on the app's timeline, an operator approves the failback with the Approve button, and with reads closed the
 * console shows nothing until the token is given, then follows the event stream. Saves target/console-*.png.
 */
class ConsoleBrowserTest {
  static final String CHROMIUM = "/usr/bin/chromium";
  static final String DRIVER = "/usr/bin/chromedriver";

  @Test
  void consoleShowsFailoverLiveAndApprovesFailback() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(CHROMIUM)) && Files.isExecutable(Path.of(DRIVER)),
        "chromium and chromium-driver are not installed (.ci/run installs them: apt-get install chromium chromium-driver)");
    Path dir = Path.of("target/console-" + System.nanoTime()).toAbsolutePath();
    LocalCluster lc = LocalCluster.up(dir, 3, Ports.free("127.0.0.11"), null, false, null);
    WebDriver browser = null;
    try {
      lc.client("s1").post("/api/v1/apps", Map.of("tag", "web", "command", Map.of("argv", List.of("sleep", "100000")),
          "primary", "s1", "backups", List.of("s2"), "autoFailback", false));
      ChromeOptions o = new ChromeOptions();
      o.setBinary(CHROMIUM);
      o.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--window-size=1280,900", "--user-data-dir=" + Files.createTempDirectory("chromium"));
      ChromeDriverService svc = new ChromeDriverService.Builder().usingDriverExecutable(new File(DRIVER)).build();
      browser = new ChromeDriver(svc, o);
      WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(40));
      browser.get(lc.apiUrl("s3") + "/");
      WebDriver b = browser;
      wait.until(d -> hostOf(d, "web").equals("s1") && d.findElement(By.id("live")).getText().equals("live"));
      shot(browser, "console-1-running.png");

      lc.kill("s1"); // the page must follow the failover by itself, no reload
      wait.until(d -> hostOf(d, "web").equals("s2"));
      assertThat(browser.findElement(By.id("events")).getText()).contains("FAILOVER");
      clickWhenStill(wait, "tr[data-app='web'] td.host");
      // the timeline: s1's run, the outage its failure caused (with its length), s2's run
      wait.until(d -> String.join(" ", texts(d, "#timeline .seg")).matches("s1@(\\d+) s2@(\\d+)"));
      assertThat(texts(browser, "#timeline li.outage")).singleElement().asString().matches("(?s).*down for \\d+(\\.\\d)? s.*s1 failed.*");
      shot(browser, "console-2-failed-over.png");

      lc.start("s1");
      wait.until(d -> !d.findElements(By.cssSelector("#pending button.approve")).isEmpty());
      browser.findElement(By.id("token")).sendKeys(lc.token());
      browser.findElement(By.id("saveToken")).click();
      clickWhenStill(wait, "#pending button.approve");
      wait.until(d -> hostOf(d, "web").equals("s1"));
      // s1@1 s2@2 s1@3, and the failback's outage; on a starved machine the fresh s1 may lose its lease at once and
      // the app go on elsewhere (seen twice in full verifies): what must show is the failback, wherever it went next
      new WebDriverWait(browser, Duration.ofSeconds(40)).withMessage(() -> "the timeline shows " + texts(b, "#timeline .seg")
          + " " + texts(b, "#timeline li.outage"))
          .until(d -> String.join(" ", texts(d, "#timeline .seg")).matches("s1@\\d+ s2@\\d+( \\S+)+")
              && texts(d, "#timeline li.outage").stream().anyMatch(line -> line.contains("failback from s2")));
      shot(browser, "console-3-failed-back.png");

      // reads closed (as off loopback): nothing shows without the token; with it, the event stream is live
      lc.kill("s3");
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !lc.running("s3"));
      Path config = lc.dir().resolve("s3").resolve("agent.yaml");
      Files.writeString(config, Files.readString(config).replace("cluster:\n", "cluster:\n  openReads: false\n"));
      lc.start("s3");
      lc.awaitReady(null, 30_000);
      ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("sessionStorage.clear()");
      browser.get(lc.apiUrl("s3") + "/");
      wait.until(d -> d.findElement(By.id("message")).getText().contains("reads are not open"));
      assertThat(browser.findElements(By.cssSelector("#events li"))).isEmpty();
      assertThat(browser.findElements(By.cssSelector("tr[data-app]"))).isEmpty();
      browser.findElement(By.id("token")).sendKeys(lc.token());
      browser.findElement(By.id("saveToken")).click();
      wait.until(d -> !hostOf(d, "web").isEmpty() && d.findElement(By.id("live")).getText().equals("live")
          && d.findElement(By.id("events")).getText().contains("FAILBACK"));
      lc.client("s3").post("/api/v1/apps/web/unload", Map.of()); // a new event must arrive through the stream
      wait.until(d -> d.findElement(By.id("events")).getText().contains("OPERATOR_UNLOAD"));
      shot(browser, "console-4-token-stream.png");
    } finally {
      if (browser != null) browser.quit();
      lc.down();
    }
  }

  /** The live page re-renders on every change: find the element again until a click lands. */
  static void clickWhenStill(WebDriverWait wait, String css) {
    wait.until(d -> {
      try {
        d.findElement(By.cssSelector(css)).click();
        return true;
      } catch (org.openqa.selenium.StaleElementReferenceException | org.openqa.selenium.NoSuchElementException e) {
        return false;
      }
    });
  }

  static List<String> texts(WebDriver d, String css) {
    try {
      // textContent: a short run's label is clipped by its bar, which getText() would leave out
      return d.findElements(By.cssSelector(css)).stream().map(e -> e.getAttribute("textContent").trim().replaceAll("\\s+", " ")).toList();
    } catch (org.openqa.selenium.StaleElementReferenceException e) {
      return List.of();
    }
  }

  static String hostOf(WebDriver d, String tag) {
    try {
      return d.findElement(By.cssSelector("tr[data-app='" + tag + "'] td.host")).getText();
    } catch (org.openqa.selenium.NoSuchElementException | org.openqa.selenium.StaleElementReferenceException e) {
      return "";
    }
  }

  static void shot(WebDriver d, String name) throws Exception {
    File f = ((TakesScreenshot) d).getScreenshotAs(OutputType.FILE);
    Files.copy(f.toPath(), Path.of("target", name), StandardCopyOption.REPLACE_EXISTING);
  }
}
