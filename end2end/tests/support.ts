import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Locator, type Page } from '@playwright/test';

export { expect };

/**
 * A page that fails the test on any uncaught error or console error. The browser logs
 * an error for every 4xx/5xx response; a test that provokes one on purpose says which
 * statuses it expects with `expectHttpErrors(...)`.
 */
export const test = base.extend<{ page: Page }>({
  page: async ({ page }, use, testInfo) => {
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const expected = testInfo.annotations
        .filter((annotation) => annotation.type === 'expected-http-error')
        .some((annotation) => message.text() === `Failed to load resource: the server responded with a status of ${annotation.description}`);
      if (!expected) problems.push(`console error: ${message.text()}`);
    });
    await use(page);
    expect(problems, 'errors in the browser').toEqual([]);
  },
});

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

/** Opens the app and waits until the browser has hydrated it. */
export async function openHydrated(page: Page) {
  await page.goto('/');
  await expect(form(page)).toHaveAttribute('data-hydrated', 'true');
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
/** The live region that announces what just happened. */
export const announcement = (page: Page) => page.getByRole('status').filter({ hasNotText: /items? left$/ });
export const pager = (page: Page) => page.getByRole('navigation', { name: 'Pages' });

/** The count of active todos the page shows. */
export async function activeCount(page: Page): Promise<number> {
  const text = await itemsLeft(page).innerText();
  return Number(text.split(' ')[0]);
}

/** Creates todos through the API (the page's cookie jar, so reads see them at once). */
export async function createTodos(page: Page, titles: string[]) {
  for (const title of titles) {
    const response = await page.request.post('/api/create_todo', { form: { title, text: '' } });
    expect(response.status()).toBe(200);
  }
}

/** Fails the test on any axe-core violation (WCAG 2.x A and AA rules, best practices). */
export async function expectNoAxeViolations(page: Page, state: string) {
  if (test.info().project.use.javaScriptEnabled !== false) {
    await expectNoViolationsIn(page, state);
    return;
  }
  // axe runs as a script in the page, which a page without JavaScript cannot do: check
  // the same server-rendered page (same URL, same cookies) where scripts run, but with
  // the app's own script and WebAssembly blocked, so it stays as the server sent it.
  // (Contexts made in a test take the project's options unless told otherwise.)
  const context = await page.context().browser()!.newContext({ javaScriptEnabled: true });
  try {
    await context.addCookies(await page.context().cookies());
    const serverRendered = await context.newPage();
    await serverRendered.route(/\/pkg\/[^/]+\.(js|wasm)$/, (route) => route.abort());
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
