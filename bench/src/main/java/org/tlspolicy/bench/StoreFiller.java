package org.tlspolicy.bench;

import org.tlspolicy.cache.PolicyStore;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.Optional;

/**
 * Writes N typical MTA-STS policies (enforce, a host and a wildcard mx pattern, one week
 * max_age, fetched now) for {@code domainI.example} into a policy store file, as a daemon that
 * had been running would have left it.
 */
final class StoreFiller {

    private StoreFiller() {
    }

    static void fill(Path file, int n) throws Exception {
        PolicyStore.open(Optional.of(file)).close(); // creates the schema
        long now = System.currentTimeMillis();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            c.setAutoCommit(false);
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO sts_policy VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                for (int i = 0; i < n; i++) {
                    String d = "domain" + i + ".example";
                    s.setString(1, d);
                    s.setString(2, "20240101T000000");
                    s.setString(3, "version: STSv1\nmode: enforce\nmx: mx1." + d + "\nmx: *."
                            + d + "\nmax_age: 604800\n");
                    s.setLong(4, now);
                    s.setLong(5, now + 604_800_000L);
                    s.setLong(6, now + 302_400_000L);
                    s.setLong(7, now);
                    s.addBatch();
                    if (i % 10_000 == 9_999) {
                        s.executeBatch();
                    }
                }
                s.executeBatch();
            }
            c.commit();
        }
    }
}
