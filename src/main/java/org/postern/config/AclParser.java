package org.postern.config;

import org.postern.expand.Expansion;
import org.postern.expand.VariableNames;
import org.postern.lists.AddressList;
import org.postern.lists.DomainList;
import org.postern.lists.HostList;
import org.postern.lists.LocalPartList;
import org.postern.policy.Acl;
import org.postern.policy.AclCallCondition;
import org.postern.policy.AclCondition;
import org.postern.policy.AclControl;
import org.postern.policy.AclLists;
import org.postern.policy.AclRule;
import org.postern.policy.AuthenticatedCondition;
import org.postern.policy.DnsListsCondition;
import org.postern.policy.DomainsCondition;
import org.postern.policy.EncryptedCondition;
import org.postern.policy.ExpressionCondition;
import org.postern.policy.HostsCondition;
import org.postern.policy.LocalPartsCondition;
import org.postern.policy.NegatedCondition;
import org.postern.policy.PluginCondition;
import org.postern.policy.RatelimitCondition;
import org.postern.policy.RecipientsCondition;
import org.postern.policy.SendersCondition;
import org.postern.policy.VerifyCertificateCondition;
import org.postern.policy.VerifyHeaderSyntaxCondition;
import org.postern.policy.VerifyHeloCondition;
import org.postern.policy.VerifyRecipientCondition;
import org.postern.policy.VerifySenderCondition;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads {@code conf/acl.yaml}: named ACLs, each a list of rules written the way Exim writes them,
 * one verb per rule with its conditions and modifiers:
 * <pre>
 * acl_check_rcpt:
 *   - require: { verify: recipient }
 *   - accept:  { domains: +local_domains }
 *   - deny:    { message: relay not permitted }
 * </pre>
 */
public final class AclParser {
  private final AclLists lists;
  private final String primaryHostname;

  public AclParser(AclLists lists, String primaryHostname) {
    this.lists = lists;
    this.primaryHostname = primaryHostname;
  }

  public Map<String, Acl> parse(YamlSection file) throws ConfigException {
    Map<String, Acl> acls = new LinkedHashMap<>();
    for (String name : file.keys()) {
      List<AclRule> rules = new ArrayList<>();
      for (Node ruleNode : file.sequence(name)) {
        rules.add(parseRule(file, name, ruleNode));
      }
      acls.put(name, new Acl(name, List.copyOf(rules)));
    }
    // "acl = name" may call an ACL defined further down: check the names once all are known.
    for (Acl acl : acls.values()) {
      for (AclRule rule : acl.rules()) {
        for (AclCondition c : rule.conditions()) {
          AclCondition inner = c instanceof NegatedCondition n ? n.inner() : c;
          if (inner instanceof AclCallCondition call && !acls.containsKey(call.name())) {
            throw new ConfigException(file.file(), rule.line(), acl.name(), "acl = " + call.name()
                + ": no such ACL");
          }
        }
      }
    }
    return acls;
  }

  private AclRule parseRule(YamlSection file, String aclName, Node ruleNode) throws ConfigException {
    int line = YamlSection.line(ruleNode);
    if (!(ruleNode instanceof MappingNode)) {
      throw new ConfigException(file.file(), line, aclName, "each rule is \"- verb: { condition: value, ... }\"");
    }
    YamlSection rule = file.child(aclName, ruleNode);
    if (rule.keys().size() != 1) {
      throw new ConfigException(file.file(), line, aclName, "a rule has exactly one verb, found " + rule.keys());
    }
    String verbName = rule.keys().iterator().next();
    AclRule.Verb verb;
    try {
      verb = AclRule.Verb.valueOf(verbName.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw rule.error(verbName, "unknown verb (accept, deny, defer, discard, drop, require, warn)");
    }
    YamlSection body = rule.section(verbName);
    List<AclCondition> conditions = new ArrayList<>();
    Expansion message = null;
    Expansion logMessage = null;
    java.util.Map<String, Expansion> sets = new java.util.LinkedHashMap<>();
    List<Expansion> addHeaders = new ArrayList<>();
    List<String> controls = new ArrayList<>();
    long delayMillis = 0;
    if (body != null) {
      for (String key : body.keys()) {
        switch (key) {
          case "message" -> message = expansion(body, key);
          case "log_message" -> logMessage = expansion(body, key);
          case "add_header" -> {
            for (String header : body.list(key, List.of())) {
              addHeaders.add(headerExpansion(body, key, header));
            }
          }
          case "control" -> {
            for (String control : body.list(key, List.of())) {
              try {
                AclControl.parse(control);
              } catch (IllegalArgumentException e) {
                throw body.error(key, e.getMessage());
              }
              controls.add(control.strip());
            }
          }
          case "delay" -> delayMillis = body.duration(key, java.time.Duration.ZERO).toMillis();
          case "set" -> {
            YamlSection assignments = body.section(key);
            if (assignments == null) {
              throw body.error(key, "expected { acl_m0: value, ... }");
            }
            for (String name : assignments.keys()) {
              if (!name.matches("acl_[cm](\\d+|_[A-Za-z0-9_]+)")) {
                throw assignments.error(name, "only acl_c* (connection) and acl_m* (message) variables can be set");
              }
              sets.put(name, expansion(assignments, name));
            }
          }
          default -> conditions.add(condition(body, key));
        }
      }
      body.rejectUnknown();
    }
    return new AclRule(verb, List.copyOf(conditions), message, logMessage, java.util.Collections.unmodifiableMap(sets),
        List.copyOf(addHeaders), List.copyOf(controls), delayMillis, line);
  }

  private AclCondition condition(YamlSection body, String key) throws ConfigException {
    boolean negated = key.startsWith("!");
    String name = negated ? key.substring(1).strip() : key;
    boolean sequence = body.isSequence(key);
    List<String> items = body.list(key, List.of());
    String value = String.join(" : ", items);
    AclCondition condition;
    try {
      condition = switch (name) {
        case "hosts" -> new HostsCondition(sequence ? HostList.parse(items, lists.hosts()::get, lists.files())
            : HostList.parse(value, lists.hosts()::get, lists.files()));
        case "domains" -> new DomainsCondition(sequence
            ? DomainList.parse(items, primaryHostname, lists.domains()::get, lists.files())
            : DomainList.parse(value, primaryHostname, lists.domains()::get, lists.files()));
        case "senders" -> new SendersCondition(
            AddressList.parse(items, sequence, primaryHostname, lists.addresses()::get, lists.files()));
        case "recipients" -> new RecipientsCondition(
            AddressList.parse(items, sequence, primaryHostname, lists.addresses()::get, lists.files()));
        case "local_parts" -> new LocalPartsCondition(
            LocalPartList.parse(items, sequence, lists.localParts()::get, lists.files()));
        case "authenticated" -> new AuthenticatedCondition(words(items));
        case "encrypted" -> new EncryptedCondition(words(items));
        case "condition" -> new ExpressionCondition(Expansion.parse(value, VariableNames::isKnown));
        case "acl" -> new AclCallCondition(value.strip());
        case "ratelimit" -> {
          if (sequence) {
            throw body.error(key, "ratelimit is one string: \"limit / period / options / key\"");
          }
          yield RatelimitCondition.parse(value);
        }
        case "dnslists" -> DnsListsCondition.parse(value);
        case "plugin" -> {
          // plugin: NAME or NAME/argument; the argument is an expansion ($sender_address, ...).
          String spec = value.strip();
          int slash = spec.indexOf('/');
          String plugin = slash < 0 ? spec : spec.substring(0, slash).strip();
          if (!plugin.matches(ConfigLoader.PLUGIN_NAME)) {
            throw body.error(key, "a plugin name is letters, digits and ._- only (plugin: NAME or NAME/argument)");
          }
          yield new PluginCondition(plugin,
              slash < 0 ? null : Expansion.parse(spec.substring(slash + 1), VariableNames::isKnown));
        }
        case "verify" -> switch (value.strip()) {
          case "recipient" -> new VerifyRecipientCondition();
          case "certificate" -> new VerifyCertificateCondition();
          case "sender" -> new VerifySenderCondition();
          case "helo" -> new VerifyHeloCondition();
          case "header_syntax" -> new VerifyHeaderSyntaxCondition();
          default -> throw body.error(key, "unsupported verification \"" + value
              + "\" (supported: recipient, sender, helo, header_syntax, certificate)");
        };
        default -> throw body.error(key, "unknown condition or modifier");
      };
    } catch (IllegalArgumentException e) {
      throw body.error(key, e.getMessage());
    }
    return negated ? new NegatedCondition(condition) : condition;
  }

  private static Expansion expansion(YamlSection body, String key) throws ConfigException {
    try {
      return Expansion.parse(body.string(key, ""), VariableNames::isKnown);
    } catch (IllegalArgumentException e) {
      throw body.error(key, e.getMessage());
    }
  }

  /** An {@code add_header} text must start as a header does, so a typo is found at load time. */
  private static Expansion headerExpansion(YamlSection body, String key, String text) throws ConfigException {
    if (!text.strip().matches("(?s)[!-9;-~]+:.*")) {
      throw body.error(key, "\"" + text + "\" is not a header line (expected \"Name: value\")");
    }
    try {
      return Expansion.parse(text.strip(), VariableNames::isKnown);
    } catch (IllegalArgumentException e) {
      throw body.error(key, e.getMessage());
    }
  }

  /** Exim's colon-separated list, or a YAML sequence, as trimmed non-empty items. */
  private static List<String> words(List<String> items) {
    return items.stream().flatMap(s -> java.util.Arrays.stream(s.split(":"))).map(String::strip)
        .filter(s -> !s.isEmpty()).toList();
  }
}
