package org.tlspolicy.cache;

/**
 * One persisted MTA-STS policy: enough to answer from it after a restart, and to schedule its
 * refresh. Times are epoch milliseconds.
 *
 * @param domain    the policy domain, lowercase A-labels
 * @param id        the TXT record's id the policy was fetched under
 * @param body      the policy exactly as served
 * @param fetchedAt when it was fetched; it is valid until {@code expiresAt} (fetch + max_age)
 * @param refreshAt when the refresher should fetch it again
 * @param lastUsed  when a lookup last needed it (coarse: updated at most hourly)
 */
public record StoredPolicy(String domain, String id, String body, long fetchedAt, long expiresAt,
                           long refreshAt, long lastUsed) {
}
