package org.tlspolicy.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** README.md is the operator's manual: its configuration reference must be the real one. */
class ReadmeReferenceTest {

    @Test
    void readmeShowsTheEmbeddedDefaultsVerbatim() throws Exception {
        Path readme = Path.of("..", "README.md");
        assertTrue(Files.exists(readme), "README.md beside the daemon module");
        String text = Files.readString(readme);
        String marker = "<!-- default-config -->\n```yaml\n";
        int start = text.indexOf(marker);
        assertTrue(start >= 0, "README has the default-config block");
        int from = start + marker.length();
        int end = text.indexOf("```\n", from);
        assertEquals(ConfigLoader.defaultsText(), text.substring(from, end));
    }
}
