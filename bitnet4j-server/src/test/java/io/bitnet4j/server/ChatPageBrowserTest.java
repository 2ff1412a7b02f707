package io.bitnet4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The chat page at {@code /} in headless Chromium (Debian's chromium + chromium-driver): type a message, watch the
 * reply grow while it streams, then send a second turn that carries the first. Skips, saying why, without Chromium.
 */
class ChatPageBrowserTest {
    private static Path find(String... candidates) {
        for (String c : candidates) {
            Path p = Path.of(c);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static long counter(String metrics, String name) {
        return Long.parseLong(metrics.lines().filter(l -> l.startsWith(name + " ")).findFirst().orElseThrow()
                .split(" ")[1]);
    }

    @Test
    void typedMessageGetsAStreamedReply() throws Exception {
        Path browser = find("/usr/bin/chromium", "/usr/bin/chromium-browser");
        Path driverBinary = find("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
        Assumptions.assumeTrue(browser != null && driverBinary != null,
                "Chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
        try (TestServer t = TestServer.start(1, 4, 1024)) {
            ChromeOptions options = new ChromeOptions();
            options.setBinary(browser.toFile());
            options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage");
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driverBinary.toFile())
                    .usingAnyFreePort().build();
            WebDriver driver;
            try {
                driver = new ChromeDriver(service, options);
            } catch (RuntimeException e) {
                Assumptions.abort("Chromium could not be started: " + e.getMessage().lines().findFirst().orElse(""));
                return;
            }
            try {
                driver.get(t.url("/"));
                driver.findElement(By.id("max-tokens")).clear();
                driver.findElement(By.id("max-tokens")).sendKeys("60");
                driver.findElement(By.id("input")).sendKeys("Hello bitnet", Keys.ENTER);
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(60), Duration.ofMillis(20));
                wait.until(d -> d.findElement(By.id("send")).isEnabled() && !d.findElements(By.id("reply-1")).isEmpty()
                        && d.findElement(By.id("stats")).getText().contains("tokens/s"));
                String reply = driver.findElement(By.id("reply-1")).getText();
                assertFalse(reply.startsWith("error"), reply);
                // the page built the reply from streamed pieces (a fast model finishes before any sampling could
                // see it grow, so the page counts them)
                String pieces = driver.findElement(By.id("reply-1")).getDomAttribute("data-pieces");
                assertTrue(pieces != null && Integer.parseInt(pieces) >= 3,
                        "the reply should arrive in pieces; pieces: " + pieces);
                assertTrue(driver.findElement(By.id("stats")).getText().matches("(?s).*\\d+ tokens in .*tokens/s.*"),
                        driver.findElement(By.id("stats")).getText());
                // second turn: the page keeps the conversation and sends it all
                driver.findElement(By.id("input")).sendKeys("And again", Keys.ENTER);
                wait.until(d -> !d.findElements(By.id("reply-3")).isEmpty()
                        && d.findElement(By.id("send")).isEnabled());
                assertEquals(4, driver.findElements(By.cssSelector("#messages .msg")).size());
                String metrics = t.get("/metrics").body();
                // the second prompt is the whole conversation: it starts with the first turn, found in the slot's cache
                assertTrue(counter(metrics, "bitnet4j_prompt_tokens_evaluated_total")
                        < counter(metrics, "bitnet4j_prompt_tokens_total"), metrics);
                assertTrue(metrics.contains(
                        "bitnet4j_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 2"), metrics);
            } finally {
                driver.quit();
            }
        }
    }
}
