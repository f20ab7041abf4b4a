package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.correlation.CorrelationTracker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.logging.Level;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

/**
 * Drives the dashboard ({@code /}) in Debian's headless Chromium against a real server on the real
 * RabbitMQ: the catalog fills the publish form, a published event shows up in the live list, a bad
 * field shows the violation's pointer, a clicked row shows its JSON and causation, a page without
 * the API key says why it is refused, and a dropped stream is announced.
 *
 * <p>Each test has its own exchange ({@code bloodbank.test.dash-<8 hex>}), deleted afterwards.
 * Without {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver} (Debian's {@code chromium}
 * and {@code chromium-driver}) the tests fail when {@code CI} is set and are skipped otherwise; the
 * driver is never downloaded.
 */
class DashboardIT {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String KEY = "dashboard-it-secret-" + UUID.randomUUID();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id = UUID.randomUUID().toString().substring(0, 8);
  private final String exchange = "bloodbank.test.dash-" + id;
  private @Nullable CorrelationTracker tracker;
  private @Nullable BloodbankServer server;
  private @Nullable ChromeDriverService service;
  private @Nullable ChromeDriver driver;
  private String testName = "";

  @BeforeEach
  void start(TestInfo info) throws IOException {
    testName = info.getTestMethod().map(m -> m.getName()).orElse("test");
    requireBrowser();
    BrokerExtension.requireService("RabbitMQ", "127.0.0.1", 5672);
    tracker = CorrelationTracker.inMemory();
    server =
        BloodbankServer.start(
            ServerOptions.builder()
                .host("127.0.0.1")
                .port(0)
                .bus(
                    BloodbankOptions.builder()
                        .address("127.0.0.1", 5672)
                        .credentials("guest", "guest")
                        .exchange(exchange)
                        .serviceName("test-dash-" + id)
                        .recoveryInterval(Duration.ofMillis(500))
                        .correlationTracker(tracker)
                        .build())
                .apiKeys(ApiKeys.parse("dashboard read,publish " + KEY + "\n", "DashboardIT"))
                .build());
    // The driver executable is set, so Selenium Manager is never asked to find or fetch one.
    service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1400");
    options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
    driver = new ChromeDriver(service, options);
    driver.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
  }

  @AfterEach
  void stop() {
    List<Throwable> failures = new ArrayList<>();
    run(failures, () -> driver.quit(), driver != null);
    run(failures, () -> service.stop(), service != null);
    run(failures, () -> server.close(), server != null);
    run(failures, () -> tracker.close(), tracker != null);
    run(failures, this::deleteExchange, server != null);
    if (!failures.isEmpty()) {
      AssertionError e = new AssertionError("clean-up failed");
      failures.forEach(e::addSuppressed);
      throw e;
    }
  }

  @Test
  void publishesThroughTheFormAndShowsTheEventLiveWithItsJsonAndCausation() throws Exception {
    openWithKey();

    assertThat(catalogTypes()).contains("llm.prompt");
    chooseType("llm.prompt");
    assertThat(el("#publish-fields .field.is-required label").getText()).contains("*");
    assertThat(requiredFields()).containsExactlyInAnyOrder("provider", "prompt");

    type("#field-provider", "anthropic");
    type("#field-model", "claude-sonnet-4");
    type("#field-prompt", "hello from DashboardIT " + id);
    type("#field-tags", "[\"it\", \"dashboard\"]");
    type("#field-temperature", "0.5");
    type("#field-max_tokens", "64");
    el("#publish-submit").click();
    String parentId = publishedId(null);
    assertThat(UUID.fromString(parentId)).isNotNull();

    WebElement parentRow = row(parentId);
    assertThat(parentRow.findElement(By.cssSelector("td.type")).getText()).isEqualTo("llm.prompt");
    parentRow.click();
    JsonNode shown = waitFor("the JSON of " + parentId, () -> shownJson(parentId));
    assertThat(shown.path("event_type").asText()).isEqualTo("llm.prompt");
    assertThat(shown.path("payload").path("provider").asText()).isEqualTo("anthropic");
    assertThat(shown.path("payload").path("prompt").asText())
        .isEqualTo("hello from DashboardIT " + id);
    assertThat(shown.path("payload").path("max_tokens").isIntegralNumber()).isTrue();
    assertThat(shown.path("payload").path("temperature").asDouble()).isEqualTo(0.5);
    assertThat(shown.path("payload").path("tags").toString()).isEqualTo("[\"it\",\"dashboard\"]");

    // A child published as caused by the selected event shows it among its ancestors.
    el("#use-as-parent").click();
    assertThat(el("#publish-correlation").getDomProperty("value")).isEqualTo(parentId);
    el("#field-prompt").clear();
    type("#field-prompt", "child of " + parentId);
    el("#publish-submit").click();
    String childId = publishedId(parentId);
    assertThat(text("#publish-result")).contains(parentId);
    WebElement childRow = row(childId);
    childRow.click();
    waitFor("the JSON of " + childId, () -> shownJson(childId));
    String ancestors =
        waitFor(
            "the causation of " + childId + " listing " + parentId,
            () -> {
              String state = el("#causation").getDomAttribute("data-state");
              if ("error".equals(state)) {
                throw new AssertionError("causation failed: " + text("#causation"));
              }
              if (!"loaded".equals(state)) {
                return null;
              }
              String up = text("#causation [data-direction='ancestors']");
              if (!up.contains(parentId)) {
                // Recording is asynchronous: ask again.
                el("#events tr.event-row[data-event-id='" + childId + "']").click();
                return null;
              }
              return up;
            });
    assertThat(ancestors).contains(parentId);
    assertThat(text("#causation [data-direction='descendants']")).contains("none");
    assertThat(text("#events")).contains(parentId, childId);

    ((JavascriptExecutor) driver).executeScript("window.scrollTo(0, 0);");
    Path shot = Path.of("target", "dashboard.png");
    Files.createDirectories(shot.getParent());
    Files.write(shot, driver.getScreenshotAs(OutputType.BYTES));
    assertThat(Files.size(shot)).isPositive();
    assertNoScriptErrors();
  }

  @Test
  void showsEachViolationsPointerFromTheFormAndFromRawJson() throws Exception {
    openWithKey();
    chooseType("llm.prompt");

    type("#field-provider", "anthropic");
    type("#field-prompt", "too hot");
    type("#field-temperature", "5");
    el("#publish-submit").click();
    waitFor("the 422 of the form", () -> publishState("error"));
    assertThat(text("#publish-result .error-message")).contains("422");
    assertThat(pointers()).anySatisfy(p -> assertThat(p).endsWith("/temperature"));

    el("#publish-raw-toggle").click();
    WebElement raw = el("#publish-raw");
    assertThat(raw.isDisplayed()).isTrue();
    assertThat(el("#field-provider").isDisplayed()).isFalse();
    // Filled from the form when first shown.
    assertThat(JSON.readTree(raw.getDomProperty("value")).path("temperature").asInt()).isEqualTo(5);
    raw.clear();
    raw.sendKeys("{\"provider\": \"anthropic\", \"prompt\": \"numbered model\", \"model\": 5}");
    el("#publish-submit").click();
    waitFor(
        "the 422 of the raw body",
        () -> publishState("error") && pointers().stream().anyMatch(p -> p.endsWith("/model")));
    assertThat(pointers()).noneMatch(p -> p.endsWith("/temperature"));
    assertThat(text("#publish-result")).contains("request id");
    assertThat(rows()).isEmpty();

    raw.clear();
    raw.sendKeys("{\"provider\": ");
    el("#publish-submit").click();
    waitFor("the local JSON error", () -> text("#publish-result").contains("not valid"));
    assertNoScriptErrors();
  }

  @Test
  void withoutTheKeyExplainsWhyTheCatalogAndTheStreamAreRefused() throws Exception {
    driver.get(base() + "/");
    waitFor("the catalog's 401", () -> text("#catalog-status").contains("401"));
    waitFor("the stream's refusal", () -> el("#stream-notice").isDisplayed());
    waitFor("the stream's 401", () -> text("#stream-notice").contains("401"));
    assertThat(el("#stream-status").getDomAttribute("data-state")).isEqualTo("closed");

    // A wrong key is refused the same way; the right one then connects.
    type("#api-key", "not-the-key-0123456789");
    el("#api-key-apply").click();
    waitFor("the wrong key's 401", () -> text("#stream-notice").contains("401"));
    el("#api-key").clear();
    type("#api-key", KEY);
    el("#api-key-apply").click();
    waitFor("the stream connected", () -> streamState("connected"));
    assertThat(el("#stream-notice").isDisplayed()).isFalse();
    assertThat(catalogTypes()).contains("llm.prompt");
    Object stored =
        ((JavascriptExecutor) driver)
            .executeScript("return sessionStorage.getItem('bloodbank.dashboard.apiKey');");
    assertThat(stored).isEqualTo(KEY);
  }

  @Test
  void showsTheDropNoticeWhenTheServerEndsTheStream() throws Exception {
    openWithKey();
    assertThat(el("#stream-notice").isDisplayed()).isFalse();

    // Closing the server ends every live tail with `event: dropped`, as a slow client would get.
    server.close();
    waitFor("the dropped stream", () -> streamState("dropped"));
    assertThat(el("#stream-notice").isDisplayed()).isTrue();
    assertThat(text("#stream-notice")).contains("dropped", "the server is shutting down");
    assertNoScriptErrors();
  }

  private String base() {
    return "http://127.0.0.1:" + server.port();
  }

  /** Opens the page, enters the key and waits for the catalog and the live stream. */
  private void openWithKey() throws InterruptedException {
    driver.get(base() + "/");
    assertThat(driver.getTitle()).contains("Bloodbank");
    type("#api-key", KEY);
    el("#api-key-apply").click();
    waitFor("the event types", () -> catalogTypes().contains("llm.prompt"));
    waitFor("the stream connected", () -> streamState("connected"));
  }

  private void chooseType(String eventType) throws InterruptedException {
    el("#publish-type option[value='" + eventType + "']").click();
    waitFor(
        "the fields of " + eventType,
        () -> eventType.equals(el("#publish-fields").getDomAttribute("data-type")));
  }

  private List<String> catalogTypes() {
    List<String> out = new ArrayList<>();
    for (WebElement o : driver.findElements(By.cssSelector("#publish-type option"))) {
      String v = o.getDomProperty("value");
      if (v != null && !v.isEmpty()) {
        out.add(v);
      }
    }
    return out;
  }

  private List<String> requiredFields() {
    List<String> out = new ArrayList<>();
    for (WebElement f : driver.findElements(By.cssSelector("#publish-fields .field.is-required"))) {
      out.add(f.getDomAttribute("data-field"));
    }
    return out;
  }

  private List<String> pointers() {
    List<String> out = new ArrayList<>();
    for (WebElement p :
        driver.findElements(By.cssSelector("#publish-result .violation .pointer"))) {
      out.add(p.getText());
    }
    return out;
  }

  private List<WebElement> rows() {
    return driver.findElements(By.cssSelector("#events tr.event-row"));
  }

  private boolean streamState(String state) {
    return state.equals(el("#stream-status").getDomAttribute("data-state"));
  }

  private boolean publishState(String state) {
    return state.equals(el("#publish-result").getDomAttribute("data-state"));
  }

  /** Waits for the publish result's event id, one other than {@code previous}. */
  private String publishedId(@Nullable String previous) throws InterruptedException {
    return waitFor(
        "a published event id",
        () -> {
          if (publishState("error")) {
            throw new AssertionError("publish failed: " + text("#publish-result"));
          }
          if (!publishState("published")) {
            return null;
          }
          String shown = text("#publish-event-id");
          return shown.isEmpty() || shown.equals(previous) ? null : shown;
        });
  }

  private WebElement row(String eventId) throws InterruptedException {
    return waitFor(
        "the live row of " + eventId,
        () -> el("#events tr.event-row[data-event-id='" + eventId + "']"));
  }

  private @Nullable JsonNode shownJson(String eventId) {
    String shown = text("#event-json");
    if (shown.isEmpty()) {
      return null;
    }
    try {
      JsonNode node = JSON.readTree(shown);
      return eventId.equals(node.path("event_id").asText()) ? node : null;
    } catch (IOException e) {
      return null;
    }
  }

  private WebElement el(String css) {
    return driver.findElement(By.cssSelector(css));
  }

  private String text(String css) {
    return el(css).getText();
  }

  private void type(String css, String value) {
    el(css).sendKeys(value);
  }

  /** Fails on a script error; refused requests (401, 422) are logged too and are expected. */
  private void assertNoScriptErrors() {
    List<String> errors = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= Level.SEVERE.intValue()
          && !e.getMessage().contains("Failed to load resource")) {
        errors.add(e.getMessage());
      }
    }
    assertThat(errors).as("browser console errors").isEmpty();
  }

  /**
   * Checks {@code probe} every 50 ms until it returns something other than null or false, for at
   * most {@link #WAIT}; an element not (yet) on the page counts as not yet.
   */
  private <T> T waitFor(String what, Supplier<@Nullable T> probe) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    RuntimeException last = null;
    while (true) {
      try {
        T value = probe.get();
        if (value != null && !Boolean.FALSE.equals(value)) {
          return value;
        }
      } catch (NoSuchElementException | StaleElementReferenceException e) {
        last = e;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not seen within " + WAIT + "; " + pageState(), last);
      }
      Thread.sleep(50);
    }
  }

  /** What the page shows, for failure messages; also saves a screenshot beside the reports. */
  private String pageState() {
    StringBuilder b = new StringBuilder("page:");
    for (String css :
        List.of(
            "#stream-status",
            "#stream-notice",
            "#catalog-status",
            "#publish-result",
            "#causation",
            "#health")) {
      try {
        b.append("\n  ").append(css).append(": ").append(text(css));
      } catch (RuntimeException e) {
        b.append("\n  ").append(css).append(": (").append(e.getClass().getSimpleName()).append(')');
      }
    }
    try {
      Path shot = Path.of("target", "dashboard-failure-" + testName + ".png");
      Files.createDirectories(shot.getParent());
      Files.write(shot, driver.getScreenshotAs(OutputType.BYTES));
      b.append("\n  screenshot: ").append(shot.toAbsolutePath());
    } catch (IOException | RuntimeException e) {
      b.append("\n  no screenshot: ").append(e);
    }
    return b.toString();
  }

  private static void requireBrowser() {
    List<String> missing = new ArrayList<>();
    for (Path p : List.of(CHROMIUM, CHROMEDRIVER)) {
      if (!Files.isExecutable(p)) {
        missing.add(p.toString());
      }
    }
    if (missing.isEmpty()) {
      return;
    }
    String msg =
        "DashboardIT needs Debian's chromium and chromium-driver packages, missing "
            + missing
            + " (apt-get install chromium chromium-driver)";
    if (System.getenv("CI") != null) {
      throw new AssertionError(msg + "; integration tests need them when CI is set");
    }
    Assumptions.abort(msg);
  }

  private void deleteExchange() throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setPort(5672);
    f.setUsername("guest");
    f.setPassword("guest");
    try (Connection c = f.newConnection("test-cleanup-dash-" + id);
        Channel ch = c.createChannel()) {
      ch.exchangeDelete(exchange);
    }
  }

  private interface Step {
    void run() throws Exception;
  }

  private static void run(List<Throwable> failures, Step step, boolean when) {
    if (!when) {
      return;
    }
    try {
      step.run();
    } catch (Exception | AssertionError e) {
      failures.add(e);
    }
  }
}
