/**
 * Test support for applications on Bloodbank: a bus on the in-process embedded broker per test, and
 * assertions on what was published, consumed, dead-lettered and caused.
 *
 * <pre>{@code
 * @BloodbankTest
 * class OrderServiceTest {
 *   @Test
 *   void placingAnOrderPublishesIt(TestBus bus) {
 *     new OrderService(bus.bloodbank()).place("o-1");
 *     assertThat(bus).published("shop.order.placed").singleElement()...;
 *   }
 * }
 * }</pre>
 *
 * <p>Add {@code dev.bloodbank:bloodbank-test} in test scope. Everything in this package is non-null
 * unless marked {@code @Nullable}.
 */
@NullMarked
package dev.bloodbank.test;

import org.jspecify.annotations.NullMarked;
