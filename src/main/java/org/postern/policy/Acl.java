package org.postern.policy;

import java.util.List;

/** A named access control list: its rules in order. */
public record Acl(String name, List<AclRule> rules) {
}
