package dev.bloodbank.spring.boot;

import dev.bloodbank.command.Invokable;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Binds Invokable classes to the command types of the registry. */
final class CommandBindings {
  private CommandBindings() {}

  /**
   * Binds each class to its command type: the one given, else the one of its nearest superclass (or
   * interface) the registry knows.
   *
   * @return what was bound, by command type
   */
  static Map<String, Class<?>> bind(
      EventRegistry registry, Map<String, Class<?>> explicit, Iterable<Class<?>> bySuperclass) {
    Map<String, Class<?>> bound = new LinkedHashMap<>();
    explicit.forEach(
        (type, cls) -> {
          requireInvokable(cls);
          EventDefinition def = registry.require(type);
          if (!def.command()) {
            throw new IllegalArgumentException(
                "bloodbank.commands.bindings: '"
                    + type
                    + "' is not a command type of the registry");
          }
          registry.bind(type, cls);
          bound.put(type, cls);
        });
    for (Class<?> cls : bySuperclass) {
      if (bound.containsValue(cls)) {
        continue;
      }
      requireInvokable(cls);
      String type = commandTypeOf(registry, cls);
      registry.bind(type, cls);
      bound.put(type, cls);
    }
    return bound;
  }

  private static String commandTypeOf(EventRegistry registry, Class<?> cls) {
    for (Class<?> c = cls.getSuperclass(); c != null && c != Object.class; c = c.getSuperclass()) {
      Optional<EventDefinition> def = registry.findByPayloadClass(c);
      if (def.isPresent() && def.get().command()) {
        return def.get().eventType();
      }
    }
    throw new IllegalArgumentException(
        cls.getName()
            + " extends no payload class of a command type the registry knows; bind it by type"
            + " with bloodbank.commands.bindings[<command type>]="
            + cls.getName());
  }

  private static void requireInvokable(Class<?> cls) {
    if (!Invokable.class.isAssignableFrom(cls)) {
      throw new IllegalArgumentException(cls.getName() + " does not implement Invokable");
    }
  }
}
