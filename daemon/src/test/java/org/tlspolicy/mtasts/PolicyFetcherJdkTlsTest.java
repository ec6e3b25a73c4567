package org.tlspolicy.mtasts;

import io.netty.handler.ssl.SslProvider;

/**
 * Every {@link PolicyFetcherTest} on the JDK's TLS: what the daemon falls back to where
 * BoringSSL's library cannot be loaded (another platform, a temporary directory mounted
 * noexec), so the hostile-host guarantees hold on both.
 */
class PolicyFetcherJdkTlsTest extends PolicyFetcherTest {

    @Override
    SslProvider provider() {
        return SslProvider.JDK;
    }
}
