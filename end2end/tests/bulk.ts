import type { Page } from '@playwright/test';
import {
  test,
  expect,
  checkbox,
  clearCompletedButton,
  clickAndWaitForWrite,
  createTodos,
  expectNoAxeViolations,
  itemsLeft,
  listedTitles,
  listPath,
  markAllButton,
  openHydrated,
  pager,
  todoItem,
  todoList,
  uniqueTitle,
} from './support';

/**
 * Tests of the controls that act on every todo of a list, and of paging. The same tests
 * run hydrated and with JavaScript disabled; `act` clicks a control and, without
 * JavaScript, waits for the page the server redirects to. Each test's browser has a
 * list of its own (`/` leads to a new one), so "every todo" is the test's own.
 */
export function defineBulkTests({ hydrated }: { hydrated: boolean }) {
  const open = async (page: Page) => {
    if (hydrated) await openHydrated(page);
    else await page.goto('/');
  };
  const act = async (page: Page, click: () => Promise<void>) => {
    if (hydrated) {
      // Shown at once; the server's answer is awaited so a reload finds it stored.
      await clickAndWaitForWrite(page, click);
    } else {
      await Promise.all([page.waitForEvent('load'), click()]);
    }
  };

  test('mark all as done, and all as not done again', async ({ page }) => {
    await createTodos(page, [uniqueTitle('Bulk one'), uniqueTitle('Bulk two')]);
    await open(page);

    await expect(markAllButton(page)).toHaveText('Mark all as done');
    await act(page, () => markAllButton(page).click());
    await expect(itemsLeft(page)).toHaveText('0 items left');
    await expect(todoList(page).getByRole('checkbox', { checked: false })).toHaveCount(0);
    await expect(todoList(page).getByRole('checkbox', { checked: true })).toHaveCount(2);
    await expect(markAllButton(page)).toHaveText('Mark all as not done');
    await expectNoAxeViolations(page, 'a list with every todo done');
    await page.reload();
    await expect(itemsLeft(page)).toHaveText('0 items left');

    if (hydrated) await openHydrated(page);
    await act(page, () => markAllButton(page).click());
    await expect(todoList(page).getByRole('checkbox', { checked: true })).toHaveCount(0);
    await expect(markAllButton(page)).toHaveText('Mark all as done');
  });

  test('the count says how many todos are left, in words that fit the number', async ({ page }) => {
    await open(page);
    // A new list: nothing left, and nothing to mark.
    await expect(itemsLeft(page)).toHaveText('0 items left');
    await expect(markAllButton(page)).toHaveCount(0);
    const [first, second] = [uniqueTitle('Count one'), uniqueTitle('Count two')];
    await createTodos(page, [first, second]);
    await open(page);
    await expect(itemsLeft(page)).toHaveText('2 items left');
    await act(page, () => checkbox(page, first).click());
    await expect(itemsLeft(page)).toHaveText('1 item left');
    await act(page, () => checkbox(page, second).click());
    await expect(itemsLeft(page)).toHaveText('0 items left');
    await act(page, () => checkbox(page, second).click());
    await expect(itemsLeft(page)).toHaveText('1 item left');
    await page.reload();
    await expect(itemsLeft(page)).toHaveText('1 item left');
  });

  test('clear completed deletes the completed todos and only those', async ({ page }) => {
    const [done1, done2, active] = ['Clear one', 'Clear two', 'Stay'].map(uniqueTitle);
    await createTodos(page, [active, done1, done2]);
    await open(page);
    for (const title of [done1, done2]) {
      await act(page, () => checkbox(page, title).click());
      await expect(checkbox(page, title)).toBeChecked();
    }

    await act(page, () => clearCompletedButton(page).click());
    await expect(todoItem(page, done1)).toHaveCount(0);
    await expect(todoItem(page, done2)).toHaveCount(0);
    await expect(todoItem(page, active)).toBeVisible();
    // Nothing completed is left, so the button is gone.
    await expect(clearCompletedButton(page)).toHaveCount(0);
    await page.reload();
    await expect(todoItem(page, done1)).toHaveCount(0);
    await expect(todoItem(page, active)).toBeVisible();
  });

  test('pages of 50 todos with links to the next and previous page', async ({ page }) => {
    const label = uniqueTitle(hydrated ? 'Page' : 'No-JS page');
    const titles = Array.from({ length: 55 }, (_, n) => `${label} ${String(n).padStart(2, '0')}`);
    await createTodos(page, titles);
    const newestFirst = [...titles].reverse();
    await open(page);
    const list = listPath(page);
    if (hydrated) await page.evaluate(() => ((window as any).__samePage = true));

    expect(await listedTitles(page)).toEqual(newestFirst.slice(0, 50));
    await expect(pager(page).getByRole('link', { name: 'Previous page' })).toHaveCount(0);
    await pager(page).getByRole('link', { name: 'Next page' }).click();
    await expect(page).toHaveURL(/\?after=\d+$/);
    expect(new URL(page.url()).pathname).toBe(list);
    await expect(todoItem(page, newestFirst[50])).toBeVisible();
    expect((await listedTitles(page)).slice(0, 5)).toEqual(newestFirst.slice(50));
    await expectNoAxeViolations(page, 'a second page');

    await pager(page).getByRole('link', { name: 'Previous page' }).click();
    await expect(page).toHaveURL(/\?before=\d+$/);
    expect(new URL(page.url()).pathname).toBe(list);
    await expect(todoItem(page, newestFirst[0])).toBeVisible();
    expect(await listedTitles(page)).toEqual(newestFirst.slice(0, 50));
    if (hydrated) expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
  });
}
