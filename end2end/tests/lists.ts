import type { Page } from '@playwright/test';
import {
  test,
  expect,
  postRefused,
  addButton,
  checkbox,
  clickAndWaitForWrite,
  expectHttpErrors,
  expectNoAxeViolations,
  fillTodo,
  form,
  LIST_URL,
  listPath,
  listUrl,
  todoItem,
  todoList,
  uniqueTitle,
} from './support';

// ---- the controls of a list page around its todos, by their accessible names ----

export const yourLists = (page: Page) => page.getByRole('navigation', { name: 'Your lists' });
/** The links of "Your lists" to lists (not "New list"), newest first. */
export const yourListLinks = (page: Page) => yourLists(page).getByRole('listitem').getByRole('link');
export const newListLink = (page: Page) => yourLists(page).getByRole('link', { name: 'New list', exact: true });
export const listHeading = (page: Page) => page.getByRole('heading', { level: 1 });
export const nameForm = (page: Page) => page.getByRole('form', { name: 'List name' });
export const nameField = (page: Page) => nameForm(page).getByLabel('Name', { exact: true });
export const renameButton = (page: Page) => nameForm(page).getByRole('button', { name: 'Rename', exact: true });
export const shareSection = (page: Page) => page.getByRole('region', { name: 'Share' });
export const linkField = (page: Page) => shareSection(page).getByLabel('Link to this list', { exact: true });
export const copyLinkButton = (page: Page) => shareSection(page).getByRole('button', { name: 'Copy link', exact: true });

/**
 * Tests of lists: each browser's own lists, their links, names, "Your lists", new
 * lists, and addresses that name no list. The same tests run hydrated and with
 * JavaScript disabled (lists.spec.ts, lists-no-javascript.spec.ts).
 */
export function defineListTests({ hydrated }: { hydrated: boolean }) {
  /** Opens `url` (by default `/`, the list this browser used last, or a new one). */
  const open = async (page: Page, url = '/') => {
    await page.goto(url);
    await expect(page).toHaveURL(LIST_URL);
    if (hydrated) await expect(form(page)).toHaveAttribute('data-hydrated', 'true');
  };
  /** Clicks a link; without JavaScript, waits for the page the click loads. */
  const act = async (page: Page, click: () => Promise<void>) => {
    if (hydrated) await click();
    else await Promise.all([page.waitForEvent('load'), click()]);
  };
  /** Clicks a control that writes, and waits for the server's answer (hydrated) or the page it leads to. */
  const write = async (page: Page, click: () => Promise<void>) => {
    if (hydrated) await clickAndWaitForWrite(page, click);
    else await Promise.all([page.waitForEvent('load'), click()]);
  };
  /** Reloads until `check` passes: a browser that has not written reads from the replica, which may lag a moment. */
  const reloadUntil = async (page: Page, check: () => Promise<void>) => {
    await expect(async () => {
      await page.reload();
      if (hydrated) await expect(form(page)).toHaveAttribute('data-hydrated', 'true', { timeout: 5_000 });
      await check();
    }).toPass();
  };
  /** Adds a todo with the page's form. */
  const addTodo = async (page: Page, title: string) => {
    await fillTodo(page, title, '');
    await write(page, () => addButton(page).click());
    await expect(todoItem(page, title)).toBeVisible();
  };
  const rename = async (page: Page, name: string) => {
    await nameField(page).fill(name);
    await write(page, () => renameButton(page).click());
    await expect(listHeading(page)).toHaveText(name);
  };

  test('two browsers get lists of their own and never see each other’s todos', async ({ page, otherPage }) => {
    await open(page);
    await open(otherPage);
    expect(listPath(otherPage)).not.toBe(listPath(page));
    // A new list is empty, whatever other lists hold.
    await expect(page.getByText('No todos yet')).toBeVisible();
    await expect(otherPage.getByText('No todos yet')).toBeVisible();

    const [mine, theirs] = [uniqueTitle('Mine'), uniqueTitle('Theirs')];
    await addTodo(page, mine);
    await addTodo(otherPage, theirs);
    for (const [own, other, shown, hidden] of [
      [page, otherPage, mine, theirs],
      [otherPage, page, theirs, mine],
    ] as const) {
      await own.reload();
      await expect(todoItem(own, shown)).toBeVisible();
      await expect(todoList(own).getByRole('listitem')).toHaveCount(1);
      await expect(todoItem(own, hidden)).toHaveCount(0);
      // `/` keeps each browser on its own list.
      await own.goto('/');
      await expect(own).toHaveURL(listUrl(own));
      await expect(todoItem(own, hidden)).toHaveCount(0);
      expect(listPath(own)).not.toBe(listPath(other));
    }
  });

  test('the link to a list opens the same list in another browser, with every change', async ({ page, otherPage }) => {
    await open(page);
    const first = uniqueTitle('Shared first');
    await addTodo(page, first);

    await expect(shareSection(page)).toContainText('Anyone with this link can see and change this list.');
    await expect(linkField(page)).not.toBeEditable();
    await expect(linkField(page)).toHaveValue(listUrl(page));
    const link = await linkField(page).inputValue();

    await open(otherPage, link);
    await expect(otherPage).toHaveURL(link);
    await expect(linkField(otherPage)).toHaveValue(link);
    // This browser has written nothing yet: its reads may come from a lagging replica.
    await reloadUntil(otherPage, () => expect(todoItem(otherPage, first)).toBeVisible({ timeout: 1_000 }));

    // Changes made through the link show in the first browser, and the other way round.
    const second = uniqueTitle('Shared second');
    await addTodo(otherPage, second);
    await write(otherPage, () => checkbox(otherPage, first).click());
    await expect(checkbox(otherPage, first)).toBeChecked();
    await reloadUntil(page, async () => {
      await expect(todoItem(page, second)).toBeVisible({ timeout: 1_000 });
      await expect(checkbox(page, first)).toBeChecked({ timeout: 1_000 });
    });
    const third = uniqueTitle('Shared third');
    await addTodo(page, third);
    await reloadUntil(otherPage, () => expect(todoItem(otherPage, third)).toBeVisible({ timeout: 1_000 }));
    await expect(todoList(otherPage).getByRole('listitem')).toHaveCount(3);
  });

  test('renaming a list changes its heading and the page title', async ({ page }) => {
    await open(page);
    await expect(listHeading(page)).toHaveText('My tasks');
    await expect(listHeading(page)).toHaveCount(1);
    await expect(page).toHaveTitle('My tasks · Tasks');
    await expect(nameField(page)).toHaveValue('My tasks');
    const loads = { count: 0 };
    page.on('load', () => (loads.count += 1));

    const name = uniqueTitle('Groceries');
    await nameField(page).fill(`  ${name} `);
    await write(page, () => renameButton(page).click());
    // Stored trimmed.
    await expect(listHeading(page)).toHaveText(name);
    await expect(page).toHaveTitle(`${name} · Tasks`);
    await expect(nameField(page)).toHaveValue(name);
    await expect(yourListLinks(page)).toHaveText([name]);
    await expect(page).toHaveURL(listUrl(page));
    expect(loads.count).toBe(hydrated ? 0 : 1);

    await page.reload();
    await expect(listHeading(page)).toHaveText(name);
    await expect(page).toHaveTitle(`${name} · Tasks`);
  });

  test('an empty name is refused with a message, and the name stays', async ({ page }) => {
    await open(page);
    const list = listPath(page);
    const name = uniqueTitle('Kept name');
    await rename(page, name);
    let renames = 0;
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/rename_list') renames += 1;
    });

    await nameField(page).fill('   ');
    if (hydrated) {
      await renameButton(page).click();
    } else {
      await postRefused(page, 422, () => renameButton(page).click());
    }
    await expect(nameField(page)).toHaveAttribute('aria-invalid', 'true');
    await expect(nameField(page)).toHaveAccessibleDescription("Name can't be empty.");
    await expect(nameForm(page).getByText("Name can't be empty.")).toBeVisible();
    await expect(listHeading(page)).toHaveText(name);
    // Checked in the browser before anything is sent; without JavaScript, by the server.
    expect(renames).toBe(hydrated ? 0 : 1);
    await expectNoAxeViolations(page, 'a refused list name');

    await page.goto(list);
    await expect(listHeading(page)).toHaveText(name);
    await expect(nameField(page)).toHaveAttribute('aria-invalid', 'false');
  });

  test('"Your lists" shows the lists this browser used and leads to each', async ({ page, otherPage }) => {
    // The first browser's list, shared with the second.
    await open(page);
    const [sharedName, sharedTodo] = [uniqueTitle('Shared list'), uniqueTitle('In the shared list')];
    await rename(page, sharedName);
    await addTodo(page, sharedTodo);
    const link = await linkField(page).inputValue();

    // The second browser's own list, written to (a list nobody wrote to is not kept).
    await open(otherPage);
    const ownLink = listUrl(otherPage);
    const [ownName, ownTodo] = [uniqueTitle('Own list'), uniqueTitle('In the own list')];
    await rename(otherPage, ownName);
    await addTodo(otherPage, ownTodo);
    await expect(yourListLinks(otherPage)).toHaveText([ownName]);

    // Its writes came after the first browser's: what it reads now includes those.
    await open(otherPage, link);
    await expect(listHeading(otherPage)).toHaveText(sharedName);
    await expect(todoItem(otherPage, sharedTodo)).toBeVisible();
    await expect(yourListLinks(otherPage)).toHaveText([sharedName, ownName]);
    await expect(yourListLinks(otherPage).first()).toHaveAttribute('aria-current', 'page');
    await expect(yourListLinks(otherPage).last()).not.toHaveAttribute('aria-current', /.*/);
    await expect(newListLink(otherPage)).toHaveAttribute('href', '/lists/new');
    await expectNoAxeViolations(otherPage, '"Your lists" with two lists');

    // A link of "Your lists" goes to that list, with its own todos only.
    await act(otherPage, () => yourListLinks(otherPage).filter({ hasText: ownName }).click());
    await expect(otherPage).toHaveURL(ownLink);
    await expect(listHeading(otherPage)).toHaveText(ownName);
    await expect(todoItem(otherPage, ownTodo)).toBeVisible();
    await expect(todoItem(otherPage, sharedTodo)).toHaveCount(0);
    await expect(otherPage).toHaveTitle(`${ownName} · Tasks`);
    await expect(linkField(otherPage)).toHaveValue(ownLink);
    await expect(yourListLinks(otherPage)).toHaveText([ownName, sharedName]);
    await expect(yourListLinks(otherPage).first()).toHaveAttribute('aria-current', 'page');

    await act(otherPage, () => yourListLinks(otherPage).filter({ hasText: sharedName }).click());
    await expect(otherPage).toHaveURL(link);
    await expect(listHeading(otherPage)).toHaveText(sharedName);
    await expect(todoItem(otherPage, sharedTodo)).toBeVisible();
    await expect(todoItem(otherPage, ownTodo)).toHaveCount(0);

    // The first browser never opened the second one's list.
    await page.reload();
    await expect(yourListLinks(page)).toHaveText([sharedName]);
  });

  test('"New list" starts an empty list at another address', async ({ page }) => {
    await open(page);
    const first = listUrl(page);
    const title = uniqueTitle('In the first list');
    await addTodo(page, title);

    await Promise.all([page.waitForURL((url) => url.href !== first && LIST_URL.test(url.href)), newListLink(page).click()]);
    if (hydrated) await expect(form(page)).toHaveAttribute('data-hydrated', 'true');
    await expect(page).toHaveURL(LIST_URL);
    expect(listUrl(page)).not.toBe(first);
    await expect(page.getByText('No todos yet')).toBeVisible();
    await expect(todoList(page).getByRole('listitem')).toHaveCount(0);
    await expect(listHeading(page)).toHaveText('My tasks');
    await expect(linkField(page)).toHaveValue(listUrl(page));
    // The new list first, then the one before, which is still there.
    await expect(yourListLinks(page)).toHaveCount(2);
    await expect(yourListLinks(page).first()).toHaveAttribute('href', listPath(page));
    await expect(yourListLinks(page).first()).toHaveAttribute('aria-current', 'page');
    await expect(yourListLinks(page).last()).toHaveAttribute('href', new URL(first).pathname);
  });

  test('`/` goes back to the list used most recently', async ({ page }) => {
    await open(page);
    const first = listUrl(page);
    const firstName = uniqueTitle('First');
    await rename(page, firstName);
    await Promise.all([page.waitForURL((url) => url.href !== first && LIST_URL.test(url.href)), newListLink(page).click()]);
    const second = listUrl(page);
    const secondName = uniqueTitle('Second');
    if (hydrated) await expect(form(page)).toHaveAttribute('data-hydrated', 'true');
    await rename(page, secondName);

    await open(page, '/');
    await expect(page).toHaveURL(second);
    await expect(listHeading(page)).toHaveText(secondName);

    await act(page, () => yourListLinks(page).filter({ hasText: firstName }).click());
    await expect(page).toHaveURL(first);
    // Opened: now the most recent one.
    await expect(yourListLinks(page).first()).toHaveText(firstName);
    await open(page, '/');
    await expect(page).toHaveURL(first);
    await expect(listHeading(page)).toHaveText(firstName);

    // The header's "Tasks" link leads there too.
    await act(page, () => page.getByRole('banner').getByRole('link', { name: 'Tasks', exact: true }).click());
    await expect(page).toHaveURL(first);
  });

  test('an address that names no list is a 404 page that offers a new list', async ({ page }) => {
    expectHttpErrors('404 (Not Found)');
    for (const path of ['/lists/nope', `/lists/${'8'.repeat(26)}`, `/lists/${'A'.repeat(26)}`, '/lists/']) {
      const response = await page.goto(path);
      expect(response!.status(), path).toBe(404);
      if (path === '/lists/') continue; // no list route at all: the app's "Page not found"
      await expect(page.getByRole('heading', { level: 1 })).toHaveText('No such list');
      await expect(page).toHaveTitle('No such list · Tasks');
      await expect(form(page)).toHaveCount(0);
    }

    await page.goto('/lists/nope');
    await expectNoAxeViolations(page, 'the No such list page');
    const start = page.getByRole('link', { name: 'start a new list', exact: true });
    await expect(start).toHaveAttribute('href', '/lists/new');
    await Promise.all([page.waitForURL(LIST_URL), start.click()]);
    await expect(page.getByText('No todos yet')).toBeVisible();
    await expect(listHeading(page)).toHaveText('My tasks');
  });

  test('the page has no accessibility violations with its list controls', async ({ page }) => {
    await open(page);
    await addTodo(page, uniqueTitle('Axe lists'));
    await rename(page, uniqueTitle('Axe list name'));
    await expectNoAxeViolations(page, 'a renamed list with a todo');
  });
}
