package org.tlspolicy.cache;

/**
 * A DANE result as the store keeps it.
 *
 * @param domain     the next-hop domain
 * @param result     the result in the text form of {@code DaneLookupCodec}
 * @param validUntil epoch milliseconds after which it must be resolved again (its DNS TTLs)
 */
public record StoredDane(String domain, String result, long validUntil) {
}
