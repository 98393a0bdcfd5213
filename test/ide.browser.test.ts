import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { createTestDatabase, gqlOk } from './helpers/test-app';
import { killAndWait, until } from './helpers/wait';

/**
 * The GraphQL IDE as a new admin meets it, in a real headless Chromium (Debian's; nothing
 * here downloads a browser), following the README: open the IDE, run Login, put the token
 * in the Headers tab, read the docs, run OpenTickets, and watch a subscription.
 * Run with `npm run test:browser` (CI installs chromium first).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MAIN = path.join(__dirname, '..', 'dist', 'src', 'main.js');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The service as `npm start` runs it (development, demo data), on a database of its own. */
async function startService(): Promise<{ url: string; stop(): Promise<void> }> {
  const database = await createTestDatabase();
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      NODE_ENV: 'development',
      DATABASE_URL: database.url,
      PORT: String(port),
      SEED_DEMO_DATA: 'true',
      JWT_SECRET: 'browser-test-secret-that-is-long-enough',
      CREDENTIALS_KEY: Buffer.alloc(32, 4).toString('base64'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await until(
    'the service to start',
    async () => {
      if (child.exitCode !== null) throw new Error(`the service exited:\n${output}`);
      return output.includes('ready at');
    },
    60_000,
  );
  return {
    url: `http://localhost:${port}`,
    stop: async () => {
      await killAndWait(child);
      await database.drop();
    },
  };
}

describe('the GraphQL IDE in a browser', () => {
  let t: { url: string; stop(): Promise<void> };
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const foreignRequests: string[] = [];
  /** GraphQL requests the page has sent: POSTs, and frames on its graphql-ws socket. */
  let graphqlPosts = 0;

  beforeAll(async () => {
    t = await startService();
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    const devtools = await page.createCDPSession();
    await devtools.send('Network.enable');
    devtools.on('Network.webSocketFrameSent', () => graphqlPosts++);
    page.on('pageerror', (error) => problems.push(`page: ${(error as Error).message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.url()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(t.url) && !request.url().startsWith('data:')) foreignRequests.push(request.url());
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql') graphqlPosts++;
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const clickText = async (selector: string, text: string) => {
    for (const element of await page.$$(selector)) {
      if ((await element.evaluate((node) => node.textContent?.trim())) === text) return element.click();
    }
    throw new Error(`nothing "${text}" to click among ${selector}`);
  };
  /**
   * Presses Run and picks one of the document's operations, as a person would. A pick the
   * page did not act on (its menu re-rendered under the click: no request left) is made
   * again, as a person would, rather than waiting for an answer that cannot come.
   */
  const run = async (operation: string) => {
    for (let tries = 1; ; tries++) {
      const before = graphqlPosts;
      await page.click('.graphiql-execute-button');
      await clickText('.graphiql-dropdown-item', operation);
      try {
        await until(`${operation} to be sent`, async () => graphqlPosts > before, 3_000);
        return;
      } catch (error) {
        if (tries >= 3) throw error;
        await page.keyboard.press('Escape');
      }
    }
  };
  const response = () => page.$eval('.graphiql-response', (node) => (node as unknown as { innerText: string }).innerText);
  const responseMatching = (pattern: RegExp) =>
    until(`the response to match ${pattern}`, async () => pattern.exec(await response()) ?? undefined, 10_000);
  const setHeaders = async (text: string) => {
    await clickText('button', 'Headers');
    const editor = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor';
    await page.click(editor);
    await page.keyboard.down('Control');
    await page.keyboard.press('KeyA');
    await page.keyboard.up('Control');
    await page.keyboard.press('Backspace');
    // Pasted as text, as a person pastes a token (typing would trigger bracket completion).
    await page.keyboard.sendCharacter(text);
  };

  it('opens without errors and from this server alone, with the prepared operations', async () => {
    await page.goto(`${t.url}/`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.graphiql-execute-button');
    await page.click('.graphiql-execute-button');
    const operations = await page.$$eval('.graphiql-dropdown-item', (items) => items.map((item) => item.textContent?.trim()));
    expect(operations).toEqual(['Login', 'OpenTickets', 'TicketChanges']);
    await page.keyboard.press('Escape');
    expect(problems).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it('signs in with the prepared Login, even while an old token is still in the headers', async () => {
    await setHeaders('{"Authorization": "Bearer yesterdays.expired.token"}');
    await run('Login');
    const [, token] = await responseMatching(/"token":\s*"([^"]+)"/);
    expect(token.replace(/\s+/g, '')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // Anything else with that old token says what is wrong with it.
    await run('OpenTickets');
    await responseMatching(/The\s+access\s+token\s+is\s+invalid/);
    // That refusal is the one error this walk-through expects (HTTP 401).
    expect(problems.splice(0)).toEqual([
      expect.stringMatching(/^HTTP 401 /),
      expect.stringMatching(/status of 401 \(Unauthorized\)/),
    ]);
  });

  it('runs OpenTickets and shows the schema docs once the token is in the Headers tab', async () => {
    await run('Login');
    const [, raw] = await responseMatching(/"token":\s*"([^"]+)"/);
    await setHeaders(`{"Authorization": "Bearer ${raw.replace(/\s+/g, '')}"}`);
    await run('OpenTickets');
    const [, total] = await responseMatching(/"totalCount":\s*(\d+)/);
    expect(Number(total)).toBeGreaterThanOrEqual(3);
    await responseMatching(/"reference":\s*"T-\d{6}"/);

    await page.click('[aria-label="Show Documentation Explorer"]');
    await until('the docs', async () =>
      (await page.$eval('.graphiql-plugin', (node) => (node as unknown as { innerText: string }).innerText)).includes(
        'Root Types',
      ),
    );
    await clickText('.graphiql-plugin a', 'Query');
    const docs = await until('the Query docs', async () => {
      const text = await page.$eval('.graphiql-plugin', (node) => (node as unknown as { innerText: string }).innerText);
      return text.includes('tickets') ? text : undefined;
    });
    expect(docs).toContain('Reads. Every field needs a signed-in principal.');
  });

  it('shows ticket changes live while TicketChanges runs', async () => {
    await run('TicketChanges');
    // Give the socket a moment to subscribe, then change a ticket as another client would.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { login } = await gqlOk(t.url, 'mutation { login(email: "admin@demo.test", password: "demo-password") { token } }');
    const { tickets } = await gqlOk(
      t.url,
      '{ tickets(first: 1, filter: { priorities: [LOW] }) { edges { node { id reference } } } }',
      {},
      login.token,
    );
    const ticket = tickets.edges[0].node;
    await gqlOk(
      t.url,
      'mutation ($id: ID!) { changeTicketPriority(ticketId: $id, priority: URGENT) { priority } }',
      { id: ticket.id },
      login.token,
    );
    await responseMatching(/"kind":\s*"PRIORITY_CHANGED"/);
    expect(await response()).toContain(ticket.reference);
    expect(problems).toEqual([]);
  });
});
