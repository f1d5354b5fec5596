package org.postern.policy;

import org.postern.lists.AddressList;
import org.postern.lists.DomainList;
import org.postern.lists.HostList;
import org.postern.lists.ListFiles;
import org.postern.lists.LocalPartList;

import java.util.Map;

/**
 * The named lists ({@code hostlist}, {@code domainlist}, {@code addresslist},
 * {@code localpartlist}) an ACL may refer to as {@code +name}, and the reader for {@code /path}
 * items, for one configuration generation.
 */
public record AclLists(Map<String, HostList> hosts, Map<String, DomainList> domains,
                       Map<String, AddressList> addresses, Map<String, LocalPartList> localParts,
                       ListFiles files) {
}
