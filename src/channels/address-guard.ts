import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/**
 * Outbound HTTP of the channels (provider APIs, webhook URLs) goes only to public
 * addresses: loopback, private, link-local (cloud metadata), unique-local and other
 * non-unicast ranges are refused, whatever a hostname resolves to, at connect time
 * (so a DNS answer that changes after the check is caught too). `allowList` holds
 * addresses or CIDR ranges let through anyway, for local set-ups and tests.
 */
export class AddressGuard {
  readonly httpAgent: RequestFilteringHttpAgent;
  readonly httpsAgent: RequestFilteringHttpsAgent;

  constructor(private readonly allowList: string[] = []) {
    const options = { allowIPAddressList: allowList, keepAlive: true };
    this.httpAgent = new RequestFilteringHttpAgent(options);
    this.httpsAgent = new RequestFilteringHttpsAgent(options);
  }

  /** Whether an IP address may be reached. */
  allows(address: string): boolean {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.process(address);
    } catch {
      return false;
    }
    const listed = this.allowList.some((entry) => {
      try {
        if (entry.includes('/')) {
          const range = ipaddr.parseCIDR(entry);
          return parsed.kind() === range[0].kind() && parsed.match(range);
        }
        return ipaddr.process(entry).toString() === parsed.toString();
      } catch {
        return false;
      }
    });
    return listed || parsed.range() === 'unicast';
  }

  /**
   * Checks a host (name or address) before it is saved or used: its literal address, or
   * every address its name resolves to now. A name that does not resolve here is left to
   * the connect-time check. Throws AddressNotAllowedError.
   */
  async assertHostAllowed(host: string): Promise<void> {
    const bare = host.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (isIP(bare)) addresses = [bare];
    else {
      try {
        addresses = (await lookup(bare, { all: true, verbatim: true })).map((entry) => entry.address);
      } catch {
        return;
      }
    }
    const refused = addresses.find((address) => !this.allows(address));
    if (refused) throw new AddressNotAllowedError(host, refused);
  }

  /** Checks the host of an http(s) URL; see assertHostAllowed. */
  async assertUrlAllowed(url: string): Promise<void> {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      throw new AddressNotAllowedError(url, 'an invalid URL');
    }
    await this.assertHostAllowed(host);
  }
}

export class AddressNotAllowedError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      `${host} resolves to ${address}, a loopback, private or link-local address: outbound messages go to public addresses only`,
    );
    this.name = 'AddressNotAllowedError';
  }
}

/** The error request-filtering-agent raises when a connection is refused. */
export function isRefusedAddressError(error: unknown): boolean {
  return error instanceof Error && /is not allowed\. Because/.test(error.message);
}
