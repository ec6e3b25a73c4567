package org.tlspolicy.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The manual's configuration reference (docs/configuration.md) must be the real one. */
class ReadmeReferenceTest {

    @Test
    void readmeShowsTheEmbeddedDefaultsVerbatim() throws Exception {
        Path readme = Path.of("..", "docs", "configuration.md");
        assertTrue(Files.exists(readme), "docs/configuration.md beside the daemon module");
        String text = Files.readString(readme);
        String marker = "<!-- default-config -->\n```yaml\n";
        int start = text.indexOf(marker);
        assertTrue(start >= 0, "docs/configuration.md has the default-config block");
        int from = start + marker.length();
        int end = text.indexOf("```\n", from);
        assertEquals(ConfigLoader.defaultsText(), text.substring(from, end));
    }
}
