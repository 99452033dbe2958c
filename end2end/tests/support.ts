import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Locator, type Page, type TestInfo } from '@playwright/test';

export { expect };

/**
 * A page that fails the test on any uncaught error or console error. The browser logs
 * an error for every 4xx/5xx response; a test that provokes one on purpose says which
 * statuses it expects with `expectHttpErrors(...)`.
 *
 * `otherPage` is a page of a second browser (its own context: other cookies, so other
 * lists), with the same checks and the project's options (JavaScript on or off).
 */
export const test = base.extend<{ page: Page; otherPage: Page }>({
  page: async ({ page }, use, testInfo) => {
    const problems = watchForErrors(page, testInfo);
    await use(page);
    expect(problems, 'errors in the browser').toEqual([]);
  },
  otherPage: async ({ browser }, use, testInfo) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchForErrors(page, testInfo);
    try {
      await use(page);
    } finally {
      await context.close();
    }
    expect(problems, 'errors in the second browser').toEqual([]);
  },
});

function watchForErrors(page: Page, testInfo: TestInfo): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const expected = testInfo.annotations
      .filter((annotation) => annotation.type === 'expected-http-error')
      .some((annotation) => message.text() === `Failed to load resource: the server responded with a status of ${annotation.description}`);
    if (!expected) problems.push(`console error: ${message.text()}`);
  });
  return problems;
}

/** Statuses (e.g. '409 (Conflict)') this test provokes on purpose, so the browser's log of them is no failure. */
export function expectHttpErrors(...statuses: string[]) {
  for (const status of statuses) test.info().annotations.push({ type: 'expected-http-error', description: status });
}

/** A title no other test (or earlier run) uses, so tests can share one database. */
export function uniqueTitle(label: string): string {
  return `${label} ${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

export const form = (page: Page) => page.getByRole('form', { name: 'New todo' });
export const titleField = (page: Page) => form(page).getByLabel('Title', { exact: true });
export const textField = (page: Page) => form(page).getByLabel('Text', { exact: true });
export const addButton = (page: Page) => form(page).getByRole('button', { name: 'Add todo' });
export const todoList = (page: Page) => page.getByRole('list', { name: 'Todos' });

/** The list item whose heading is exactly `title`. */
export function todoItem(page: Page, title: string): Locator {
  return todoList(page)
    .getByRole('listitem')
    .filter({ has: page.getByRole('heading', { name: title, exact: true }) });
}

/**
 * Opens the app and waits until the browser has hydrated it. `/` leads to the list this
 * browser used last: each test's page (a browser context of its own) gets a new list,
 * and the same one again on later visits.
 */
export async function openHydrated(page: Page) {
  await page.goto('/');
  await expect(page).toHaveURL(LIST_URL);
  await expect(form(page)).toHaveAttribute('data-hydrated', 'true');
}

/** A list page's URL: `/lists/` and 26 characters of Crockford's base32, the first 0-7. */
export const LIST_URL = /\/lists\/([0-7][0-9a-hjkmnp-tv-z]{25})(?:[?#]|$)/;

/** The id of the list the page shows (from its URL). */
export function listIdOf(page: Page): string {
  const match = LIST_URL.exec(page.url());
  if (!match) throw new Error(`the page shows no list: ${page.url()}`);
  return match[1];
}

/** The path of the list the page shows: `/lists/<id>`. */
export function listPath(page: Page): string {
  return `/lists/${listIdOf(page)}`;
}

/** The full URL of the list the page shows, with `query` (e.g. `?filter=active`). */
export function listUrl(page: Page, query = ''): string {
  return new URL(`${listPath(page)}${query}`, page.url()).href;
}

/** The list the page shows; a page that shows none yet opens `/` (a new list) first. */
export async function ensureList(page: Page): Promise<string> {
  if (!LIST_URL.test(page.url())) {
    await page.goto('/');
    await expect(page).toHaveURL(LIST_URL);
  }
  return listIdOf(page);
}

/** A well-formed list id nobody uses: a list that is empty until its first write. */
export function freshListId(): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  const random = Array.from({ length: 25 }, () => alphabet[Math.floor(Math.random() * 32)]).join('');
  return `${Math.floor(Math.random() * 8)}${random}`;
}

/**
 * Headers that make an API request look like the app's own page: the server refuses a
 * write from any other origin (403), and Playwright's API requests send no `Origin`
 * or `Sec-Fetch-Site` of their own, as browsers do.
 */
export function sameOrigin(): Record<string, string> {
  return { origin: new URL(test.info().project.use.baseURL!).origin };
}

export async function fillTodo(page: Page, title: string, text: string) {
  await titleField(page).fill(title);
  await textField(page).fill(text);
}

/** Titles of the listed todos, top to bottom. */
export async function listedTitles(page: Page): Promise<string[]> {
  return todoList(page).getByRole('listitem').getByRole('heading').allInnerTexts();
}

/**
 * The rules every client must enforce, with the message each produces. Each input
 * carries `marker`, so a test can check that nothing with it was stored.
 */
export function invalidInputs(marker: string) {
  return [
    { rule: 'empty title', title: '', text: marker, field: 'title', message: "Title can't be empty." },
    { rule: 'whitespace-only title', title: '   \t ', text: marker, field: 'title', message: "Title can't be empty." },
    {
      rule: 'title over 200 characters',
      title: marker + 'x'.repeat(201 - marker.length),
      text: '',
      field: 'title',
      message: 'Title must be at most 200 characters (it has 201).',
    },
    {
      rule: 'text over 4000 characters',
      title: marker,
      text: 'y'.repeat(4001),
      field: 'text',
      message: 'Text must be at most 4000 characters (it has 4001).',
    },
  ] as const;
}

export const validationRules = invalidInputs('').map((input) => input.rule);

// ---- the list's controls, by the accessible names users (and screen readers) get ----

/** The checkbox of a todo: named by its title. */
export const checkbox = (page: Page, title: string) =>
  todoItem(page, title).getByRole('checkbox', { name: title, exact: true });
export const editButton = (page: Page, title: string) =>
  page.getByRole('button', { name: `Edit ${title}`, exact: true });
export const deleteButton = (page: Page, title: string) =>
  page.getByRole('button', { name: `Delete ${title}`, exact: true });
/** The inline edit form of a todo. */
export const editForm = (page: Page, title: string) =>
  page.getByRole('form', { name: `Edit “${title}”`, exact: true });
export const markAllButton = (page: Page) => page.getByRole('button', { name: /^Mark all as (not )?done$/ });
export const clearCompletedButton = (page: Page) => page.getByRole('button', { name: 'Clear completed', exact: true });
export const filterLink = (page: Page, name: 'All' | 'Active' | 'Completed') =>
  page.getByRole('navigation', { name: 'Filter todos' }).getByRole('link', { name, exact: true });
/** "N items left": the status text with the count. */
export const itemsLeft = (page: Page) => page.getByRole('status').filter({ hasText: /items? left$/ });
/** The live region of the todos that announces what just happened. */
export const announcement = (page: Page) =>
  page.getByRole('region', { name: 'Todos' }).getByRole('status').filter({ hasNotText: /items? left$/ });
export const pager = (page: Page) => page.getByRole('navigation', { name: 'Pages' });

/** The count of active todos the page shows. */
export async function activeCount(page: Page): Promise<number> {
  const text = await itemsLeft(page).innerText();
  return Number(text.split(' ')[0]);
}

/**
 * Creates todos through the API in the list the page shows (see `ensureList`), with the
 * page's cookie jar, so its reads see them at once.
 */
export async function createTodos(page: Page, titles: string[]) {
  const list = await ensureList(page);
  for (const title of titles) {
    const response = await page.request.post('/api/create_todo', {
      form: { list, title, text: '' },
      headers: sameOrigin(),
    });
    expect(response.status()).toBe(200);
  }
}

/** The pathnames of the server functions that change todos or lists. */
const WRITES = /^\/api\/(create_todo|set_todo_completed|update_todo|delete_todo|set_all_completed|clear_completed|rename_list)$/;

/**
 * Waits for the server's answer to the write that `click` starts in a hydrated page:
 * controls show a change at once, before the server has stored it, and a reload that
 * comes sooner may find it not yet stored.
 */
export async function clickAndWaitForWrite(page: Page, click: () => Promise<void>) {
  const answered = page.waitForResponse(
    (response) => response.request().method() === 'POST' && WRITES.test(new URL(response.url()).pathname),
  );
  await click();
  await answered;
}

/**
 * Runs `submit`, a form post the server refuses (JavaScript off, or the page not yet
 * hydrated), and waits for its answer: the list page itself with the refusal's
 * `status`, shown at the form's action URL (scripts, when they run, put the list's URL
 * back in the address bar).
 */
export async function postRefused(page: Page, status: 409 | 422, submit: () => Promise<void>) {
  // Chromium logs a page that comes with a 4xx status as a failed load.
  expectHttpErrors({ 409: '409 (Conflict)', 422: '422 (Unprocessable Entity)' }[status]);
  const answered = page.waitForResponse(
    (response) => response.request().method() === 'POST' && WRITES.test(new URL(response.url()).pathname),
  );
  await submit();
  const response = await answered;
  expect(response.status()).toBe(status);
  expect(await response.headerValue('location')).toBeNull();
  await page.waitForLoadState('domcontentloaded');
}

/**
 * Runs `change` and waits until the list has been read again, as it is after every
 * confirmed change, and the frames after that (which draw the items from it) are past.
 * Known defect: that re-read draws the items anew, which closes an edit form opened
 * before it lands (focus, though, stays where the user took it meanwhile).
 */
export async function untilListReadAgain(page: Page, change: () => Promise<void>) {
  const readAgain = page.waitForEvent('requestfinished', (request) => new URL(request.url()).pathname === '/api/list_todos');
  await change();
  await readAgain;
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

/** Fails the test on any axe-core violation (WCAG 2.x A and AA rules, best practices). */
export async function expectNoAxeViolations(page: Page, state: string) {
  if (test.info().project.use.javaScriptEnabled !== false) {
    await expectNoViolationsIn(page, state);
    return;
  }
  // axe runs as a script in the page, which a page without JavaScript cannot do: check
  // the same server-rendered page (its HTML as shown, at the same URL, so styles load
  // the same) where scripts run, but with the app's own script and WebAssembly blocked,
  // so it stays as the server sent it. The HTML is handed over rather than fetched
  // again: a refused post's page is at the form's action URL, which only answers posts.
  // (Contexts made in a test take the project's options unless told otherwise.)
  const context = await page.context().browser()!.newContext({ javaScriptEnabled: true });
  try {
    const html = await page.content();
    const serverRendered = await context.newPage();
    await serverRendered.route(/\/pkg\/[^/]+\.(js|wasm)$/, (route) => route.abort());
    await serverRendered.route(page.url(), (route) => route.fulfill({ contentType: 'text/html', body: html }));
    await serverRendered.goto(page.url());
    await expectNoViolationsIn(serverRendered, `${state} (server-rendered, scripts blocked)`);
  } finally {
    await context.close();
  }
}

async function expectNoViolationsIn(page: Page, state: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const violations = results.violations.map(
    (violation) => `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
  );
  expect(violations, `axe violations on ${state}`).toEqual([]);
}
