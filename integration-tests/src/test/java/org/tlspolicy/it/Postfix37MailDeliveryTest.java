package org.tlspolicy.it;

/** {@link MailDeliveryScenarios} with Debian 12's Postfix 3.7 (no TLSRPT attributes). */
class Postfix37MailDeliveryTest extends MailDeliveryScenarios {

    Postfix37MailDeliveryTest() {
        super(PostfixRelease.DEBIAN_12);
    }
}
