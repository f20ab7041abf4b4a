package dev.bloodbank.spring.boot;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.DeliveryHandler;
import dev.bloodbank.DeliveryInfo;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberHealth;
import dev.bloodbank.SubscriberOptions;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Finds {@link BloodbankListener} methods as beans are initialized (checking each at once, so a bad
 * one fails the context while it starts), subscribes them when the context has refreshed, and
 * closes their subscribers first when it stops: running handlers finish and are acknowledged before
 * the bus and its publishers close.
 *
 * <p>Looks the bus up only in {@link #start()}, so that this post-processor does not create it
 * early. Thread-safe.
 */
final class BloodbankListenerRegistrar
    implements BeanPostProcessor, SmartLifecycle, BeanFactoryAware {
  /**
   * Started after everything in the default phase (web servers included) and stopped before it, as
   * Spring AMQP's listener containers are.
   */
  static final int PHASE = Integer.MAX_VALUE - 1000;

  private static final Logger LOG = LoggerFactory.getLogger(BloodbankListenerRegistrar.class);

  /** One annotated method of one bean, checked. */
  record Endpoint(
      String beanName,
      Object bean,
      Method method,
      Class<?> payloadType,
      boolean envelope,
      boolean delivery,
      SubscriberOptions options) {

    /** Bean, method and parameter types: overloads of one method are different listeners. */
    String describe() {
      return beanName
          + "."
          + method.getName()
          + "("
          + BloodbankListenerRegistrar.describe(method.getParameterTypes())
          + ")";
    }

    DeliveryHandler<Object> handler() {
      return (event, info) -> {
        Object first = envelope ? event : event.payload();
        Object[] args = delivery ? new Object[] {first, info} : new Object[] {first};
        try {
          method.invoke(bean, args);
        } catch (InvocationTargetException e) {
          // The method's own failure, unwrapped, goes through the subscriber's retry path.
          Throwable cause = e.getCause();
          if (cause instanceof Exception ex) {
            throw ex;
          }
          if (cause instanceof Error err) {
            throw err;
          }
          throw e;
        }
      };
    }
  }

  private final boolean autoStartup;
  private final List<Endpoint> endpoints = new CopyOnWriteArrayList<>();
  private final Map<String, Subscriber> running =
      Collections.synchronizedMap(new LinkedHashMap<>());
  private @Nullable BeanFactory beanFactory;
  private volatile boolean started;
  private volatile @Nullable Thread waiter;

  BloodbankListenerRegistrar(boolean autoStartup) {
    this.autoStartup = autoStartup;
  }

  @Override
  public void setBeanFactory(BeanFactory beanFactory) {
    this.beanFactory = beanFactory;
  }

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
    Class<?> type = AopUtils.getTargetClass(bean);
    Map<Method, BloodbankListener> found =
        MethodIntrospector.selectMethods(
            type,
            (MethodIntrospector.MetadataLookup<BloodbankListener>)
                m -> AnnotatedElementUtils.findMergedAnnotation(m, BloodbankListener.class));
    for (Map.Entry<Method, BloodbankListener> e : found.entrySet()) {
      try {
        endpoints.add(endpoint(beanName, bean, e.getKey(), e.getValue()));
      } catch (IllegalArgumentException | IllegalStateException problem) {
        throw new BeanCreationException(
            beanName,
            "@BloodbankListener method "
                + type.getName()
                + "."
                + e.getKey().getName()
                + " of bean '"
                + beanName
                + "': "
                + problem.getMessage(),
            problem);
      }
    }
    if (started && !found.isEmpty()) {
      // A bean made after the context started (lazy, @Lazy, prototype): its listeners start now,
      // unless the bus still waits for the broker (the waiting thread then takes them too). A
      // failure fails this bean alone; the listeners already running go on.
      Bloodbank bus = bus();
      if (bus.isConnected() || !bus.options().lazyConnect()) {
        for (Endpoint e : endpoints) {
          if (e.bean() == bean) {
            subscribe(bus, e);
          }
        }
      }
    }
    return bean;
  }

  /** Whether a class has {@link BloodbankListener} methods, so that it is never made lazily. */
  static boolean hasListeners(Class<?> type) {
    return !MethodIntrospector.selectMethods(
            type,
            (MethodIntrospector.MetadataLookup<BloodbankListener>)
                m -> AnnotatedElementUtils.findMergedAnnotation(m, BloodbankListener.class))
        .isEmpty();
  }

  private Endpoint endpoint(String beanName, Object bean, Method method, BloodbankListener a) {
    Class<?>[] params = method.getParameterTypes();
    boolean delivery = params.length == 2 && params[1] == DeliveryInfo.class;
    if (params.length == 0 || params.length > 2 || (params.length == 2 && !delivery)) {
      throw new IllegalArgumentException(
          "takes ("
              + describe(params)
              + "); it must take a payload class or EventEnvelope<T>, optionally followed by"
              + " DeliveryInfo");
    }
    boolean envelope = params[0] == EventEnvelope.class;
    Class<?> payloadType;
    if (envelope) {
      ResolvableType t = ResolvableType.forMethodParameter(method, 0).getGeneric(0);
      Class<?> resolved = t.resolve();
      payloadType = resolved == null || resolved == Object.class ? JsonNode.class : resolved;
    } else {
      payloadType = params[0];
      if (payloadType.isPrimitive() || payloadType == DeliveryInfo.class) {
        throw new IllegalArgumentException(
            "takes ("
                + describe(params)
                + "); the first parameter must be a payload class or EventEnvelope<T>");
      }
    }
    SubscriberOptions options = options(a);
    Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
    ReflectionUtils.makeAccessible(invocable);
    return new Endpoint(beanName, bean, invocable, payloadType, envelope, delivery, options);
  }

  private SubscriberOptions options(BloodbankListener a) {
    List<String> patterns = new ArrayList<>();
    for (String p : a.patterns()) {
      String resolved = resolve(p);
      for (String part : resolved.split(",")) {
        if (!part.isBlank()) {
          patterns.add(part.trim());
        }
      }
    }
    if (patterns.isEmpty()) {
      throw new IllegalArgumentException(
          "has no patterns; name the routing keys, e.g. @BloodbankListener(patterns ="
              + " \"fireflies.transcript.*\")");
    }
    SubscriberOptions.Builder b = SubscriberOptions.builder(patterns.toArray(new String[0]));
    String queue = resolve(a.queue());
    if (!queue.isBlank()) {
      if (a.temporary()) {
        throw new IllegalArgumentException("sets both a queue name and temporary = true");
      }
      b.queueName(queue);
    }
    if (a.temporary()) {
      b.temporary();
    }
    int concurrency = a.concurrency();
    if (concurrency < 0 || a.prefetch() < 0 || a.maxAttempts() < 0) {
      throw new IllegalArgumentException(
          "concurrency, prefetch and maxAttempts must be positive (0 for the default), were "
              + concurrency
              + ", "
              + a.prefetch()
              + ", "
              + a.maxAttempts());
    }
    if (concurrency > 0) {
      b.concurrency(concurrency);
    }
    int prefetch =
        a.prefetch() > 0
            ? a.prefetch()
            : Math.max(SubscriberOptions.DEFAULT_PREFETCH, Math.max(concurrency, 1));
    b.prefetch(prefetch);
    if (a.maxAttempts() > 0) {
      b.maxAttempts(a.maxAttempts());
    }
    if (a.retryDelays().length > 0) {
      List<Duration> delays = new ArrayList<>();
      for (String d : a.retryDelays()) {
        delays.add(DurationStyle.detectAndParse(resolve(d).trim()));
      }
      b.retryDelays(delays);
    }
    return b.build();
  }

  private String resolve(String value) {
    if (beanFactory instanceof ConfigurableBeanFactory cbf) {
      String resolved = cbf.resolveEmbeddedValue(value);
      return resolved == null ? "" : resolved;
    }
    return value;
  }

  private static String describe(Class<?>[] params) {
    List<String> names = new ArrayList<>();
    for (Class<?> p : params) {
      names.add(p.getSimpleName());
    }
    return String.join(", ", names);
  }

  @Override
  public void start() {
    if (started) {
      return;
    }
    Bloodbank bus = bus();
    started = true;
    if (!bus.isConnected() && bus.options().lazyConnect()) {
      // A lazily connecting bus refuses subscribers until it is connected: subscribe from a
      // thread of our own once it is, so that the context starts without the broker.
      Thread waiter = new Thread(() -> subscribeWhenConnected(bus), "bloodbank-listener-start");
      waiter.setDaemon(true);
      this.waiter = waiter;
      waiter.start();
      LOG.info("@BloodbankListener methods start once the broker is reachable");
      return;
    }
    subscribeAll(bus);
  }

  private void subscribeWhenConnected(Bloodbank bus) {
    long pause = Math.max(50, bus.options().recoveryInterval().toMillis());
    while (started && bus.isOpen() && !Thread.currentThread().isInterrupted()) {
      if (bus.isConnected()) {
        try {
          subscribeAll(bus);
          return;
        } catch (RuntimeException e) {
          LOG.warn("starting @BloodbankListener methods failed, retrying: {}", e.toString());
        }
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void subscribeAll(Bloodbank bus) {
    try {
      for (Endpoint e : endpoints) {
        subscribe(bus, e);
      }
    } catch (RuntimeException failure) {
      closeAll();
      throw failure;
    }
  }

  /** Subscribes one listener unless it runs already; refuses a queue another listener consumes. */
  private void subscribe(Bloodbank bus, Endpoint e) {
    synchronized (running) {
      if (!started || running.containsKey(e.describe())) {
        return;
      }
      // Checked before subscribing: a second consumer on the queue, even briefly, could take
      // events meant for the first listener and run them through the wrong method.
      if (!e.options().temporary()) {
        String queue =
            e.options().queueNameFor(bus.options().serviceName(), bus.options().exchange());
        for (Map.Entry<String, Subscriber> r : running.entrySet()) {
          if (r.getValue().queueName().equals(queue)) {
            throw new IllegalStateException(
                "@BloodbankListener "
                    + e.describe()
                    + " and "
                    + r.getKey()
                    + " would consume the same queue '"
                    + queue
                    + "' and split its events between them; give one of them its own queue ="
                    + " (or different patterns)");
          }
        }
      }
      @SuppressWarnings("unchecked")
      Class<Object> payloadType = (Class<Object>) e.payloadType();
      Subscriber s = bus.subscribeWithDelivery(e.options(), payloadType, e.handler());
      running.put(e.describe(), s);
      LOG.info(
          "@BloodbankListener {} consuming {} from '{}'",
          e.describe(),
          e.options().patterns(),
          s.queueName());
    }
  }

  private Bloodbank bus() {
    if (beanFactory == null) {
      throw new IllegalStateException("no bean factory");
    }
    return beanFactory.getBean(Bloodbank.class);
  }

  /** Closes every listener's subscriber: no new deliveries, running handlers finish. */
  @Override
  public void stop() {
    started = false;
    Thread w = waiter;
    if (w != null) {
      w.interrupt();
      try {
        w.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      waiter = null;
    }
    closeAll();
  }

  private void closeAll() {
    List<Subscriber> subscribers;
    synchronized (running) {
      subscribers = new ArrayList<>(running.values());
      running.clear();
    }
    // Side by side, each on a thread of its own: each waits for its own handlers, within its own
    // shutdown timeout, which bounds this wait too.
    List<CompletableFuture<Void>> closing = new ArrayList<>();
    for (Subscriber s : subscribers) {
      closing.add(
          CompletableFuture.runAsync(
              s::close,
              task -> {
                Thread t = new Thread(task, "bloodbank-listener-close");
                t.setDaemon(true);
                t.start();
              }));
    }
    for (CompletableFuture<Void> c : closing) {
      try {
        c.join();
      } catch (RuntimeException e) {
        LOG.warn("closing a @BloodbankListener subscriber failed: {}", e.toString());
      }
    }
  }

  @Override
  public boolean isRunning() {
    return started;
  }

  @Override
  public boolean isAutoStartup() {
    return autoStartup;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }

  /** The checked endpoints, for tests and the health indicator. */
  List<Endpoint> endpoints() {
    return List.copyOf(endpoints);
  }

  /** Each running listener's health, by bean and method. */
  Map<String, SubscriberHealth> health() {
    Map<String, SubscriberHealth> out = new LinkedHashMap<>();
    synchronized (running) {
      running.forEach((name, s) -> out.put(name, s.health()));
    }
    return out;
  }
}
