import {
  test,
  expect,
  activeCount,
  announcement,
  checkbox,
  createTodos,
  deleteButton,
  editButton,
  expectHttpErrors,
  editForm,
  expectNoAxeViolations,
  filterLink,
  itemsLeft,
  listUrl,
  openHydrated,
  todoItem,
  uniqueTitle,
  untilListReadAgain,
} from './support';
import type { Page } from '@playwright/test';

// Completing, editing, deleting and filtering in the hydrated app: every change shows
// at once, without a page load, and is still there after a reload. Each test's browser
// has a list of its own (`/` leads to a new one), so they run alongside the others;
// "mark all" and "clear completed" are in bulk-*.spec.ts.

/** Counts full page loads from now on. */
async function countPageLoads(page: Page) {
  const loads = { count: 0 };
  page.on('load', () => (loads.count += 1));
  return loads;
}

test('marks a todo done and not done, with the count following, without a page load', async ({ page }) => {
  const title = uniqueTitle('Toggle');
  await createTodos(page, [title]);
  await openHydrated(page);
  const loads = await countPageLoads(page);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/set_todo_completed', async (route) => {
    await held;
    await route.continue();
  });
  const before = await activeCount(page);

  await checkbox(page, title).click();
  await expect(checkbox(page, title)).toBeChecked();
  await expect(itemsLeft(page)).toHaveText(`${before - 1} ${before - 1 === 1 ? 'item' : 'items'} left`);
  release();
  await expect(announcement(page)).toHaveText(`Marked “${title}” as done.`);
  await expect(checkbox(page, title)).toBeFocused();
  await page.unroute('**/api/set_todo_completed');

  await page.reload();
  await expect(checkbox(page, title)).toBeChecked();
  await expect(page.getByRole('form', { name: 'New todo' })).toHaveAttribute('data-hydrated', 'true');
  await checkbox(page, title).click();
  await expect(checkbox(page, title)).not.toBeChecked();
  // Stored once announced: a reload before that could come before the write.
  await expect(announcement(page)).toHaveText(`Marked “${title}” as not done.`);
  await page.reload();
  await expect(checkbox(page, title)).not.toBeChecked();
  expect(loads.count).toBe(2); // the two reloads, nothing else
  // The list is this test's own: its one todo is active again.
  await expect(itemsLeft(page)).toHaveText('1 item left');
});

test('every action works from the keyboard alone, with focus kept in place', async ({ page }) => {
  const title = uniqueTitle('Keyboard');
  await createTodos(page, [title]);
  await openHydrated(page);

  await checkbox(page, title).focus();
  // Known defect, not what this test is about: the list re-read after a confirmed
  // change draws every item anew, so an edit form opened before it lands is closed
  // again (the fix is keeping items across re-reads, as live updates need too). Let
  // the re-read land before opening one.
  await untilListReadAgain(page, async () => {
    await page.keyboard.press('Space');
    await expect(checkbox(page, title)).toBeChecked();
    await expect(checkbox(page, title)).toBeFocused();
  });
  await expect(checkbox(page, title)).toBeChecked();
  await expect(checkbox(page, title)).toBeFocused();

  // Tab from the checkbox reaches Edit; Enter opens the form with the title focused.
  await page.keyboard.press('Tab');
  await expect(editButton(page, title)).toBeFocused();
  await page.keyboard.press('Enter');
  const form = editForm(page, title);
  await expect(form.getByLabel('Title', { exact: true })).toBeFocused();
  const edited = `${title} (keyboard)`;
  await page.keyboard.press('End');
  await page.keyboard.type(' (keyboard)');
  // Saved: focus on Edit. Tab on to Delete before the list is read again (the re-read
  // held back 300 ms): once the items are drawn anew, focus is where the user took it,
  // not back where it was when the save was confirmed.
  const listRead = '**/api/list_todos';
  await page.route(listRead, async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await route.continue();
  });
  await untilListReadAgain(page, async () => {
    await page.keyboard.press('Enter');
    await expect(todoItem(page, edited)).toBeVisible();
    await expect(editButton(page, edited)).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(deleteButton(page, edited)).toBeFocused();
  });
  await page.unroute(listRead);
  await expect(deleteButton(page, edited)).toBeFocused();

  // Delete from the keyboard: focus goes to the list's heading, not lost.
  await page.keyboard.press('Enter');
  await expect(todoItem(page, edited)).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Todos' })).toBeFocused();
  await expect(announcement(page)).toHaveText(`Deleted “${edited}”.`);
  await page.reload();
  await expect(todoItem(page, edited)).toHaveCount(0);
});

test('edits inline: Enter saves, Escape cancels, leaving the form saves', async ({ page }) => {
  const title = uniqueTitle('Edit');
  await createTodos(page, [title]);
  await openHydrated(page);
  const loads = await countPageLoads(page);

  // Escape: nothing changes.
  await editButton(page, title).click();
  let form = editForm(page, title);
  await form.getByLabel('Title', { exact: true }).fill('Not kept');
  await page.keyboard.press('Escape');
  await expect(form).toHaveCount(0);
  await expect(todoItem(page, title)).toBeVisible();
  await expect(editButton(page, title)).toBeFocused();

  // Enter in the title saves both fields.
  await editButton(page, title).click();
  form = editForm(page, title);
  const renamed = `${title} renamed`;
  await form.getByLabel('Text', { exact: true }).fill('Details\non two lines');
  await form.getByLabel('Title', { exact: true }).fill(renamed);
  // (The re-read after the save would close an edit form opened before it lands.)
  await untilListReadAgain(page, async () => {
    await form.getByLabel('Title', { exact: true }).press('Enter');
    await expect(todoItem(page, renamed)).toContainText('Details\non two lines');
  });
  await expect(todoItem(page, renamed)).toContainText('Details\non two lines');
  await expect(announcement(page)).toHaveText(`Saved “${renamed}”.`);

  // Leaving the form (a click elsewhere) saves too.
  await editButton(page, renamed).click();
  form = editForm(page, renamed);
  const blurred = `${title} blurred`;
  await form.getByLabel('Title', { exact: true }).fill(blurred);
  await page.getByRole('heading', { level: 1 }).click();
  await expect(todoItem(page, blurred)).toBeVisible();
  await expect(editForm(page, renamed)).toHaveCount(0);
  await expect(announcement(page)).toHaveText(`Saved “${blurred}”.`);

  await page.reload();
  await expect(todoItem(page, blurred)).toContainText('Details\non two lines');
  expect(loads.count).toBe(1);
});

test('an empty title is an error in the edit form, never a silent delete', async ({ page }) => {
  const title = uniqueTitle('Keep title');
  await createTodos(page, [title]);
  await openHydrated(page);
  let updates = 0;
  page.on('request', (request) => {
    if (request.url().includes('/api/update_todo')) updates += 1;
  });

  await editButton(page, title).click();
  const form = editForm(page, title);
  const field = form.getByLabel('Title', { exact: true });
  await field.fill('   ');
  await field.press('Enter');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAccessibleDescription("Title can't be empty.");
  await expect(field).toBeFocused();
  await expectNoAxeViolations(page, 'an edit form with an error');

  // Leaving the form does not save it either.
  await page.getByRole('heading', { level: 1 }).click();
  await expect(form).toBeVisible();
  expect(updates).toBe(0);
  await page.reload();
  await expect(todoItem(page, title)).toBeVisible();
});

test('deletes a todo at once, and for good', async ({ page }) => {
  const [gone, stays] = [uniqueTitle('Delete'), uniqueTitle('Stays')];
  await createTodos(page, [stays, gone]);
  await openHydrated(page);

  await deleteButton(page, gone).click();
  await expect(todoItem(page, gone)).toHaveCount(0);
  await expect(announcement(page)).toHaveText(`Deleted “${gone}”.`);
  await page.reload();
  await expect(todoItem(page, gone)).toHaveCount(0);
  await expect(todoItem(page, stays)).toBeVisible();
});

test('a change the server refuses is rolled back with a visible message', async ({ page }) => {
  expectHttpErrors('503 (Service Unavailable)');
  const title = uniqueTitle('Refused');
  await createTodos(page, [title]);
  await openHydrated(page);
  const before = await activeCount(page);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/set_todo_completed', async (route) => {
    await held;
    await route.fulfill({ status: 503, contentType: 'application/json', body: '"Unavailable"' });
  });

  await checkbox(page, title).click();
  // Shown at once (optimistically), while the server has not answered.
  await expect(checkbox(page, title)).toBeChecked();
  await expect(itemsLeft(page)).toContainText(`${before - 1} `);
  await expect(todoItem(page, title)).toHaveAttribute('aria-busy', 'true');

  release();
  await expect(checkbox(page, title)).not.toBeChecked();
  await expect(itemsLeft(page)).toContainText(`${before} `);
  await expect(todoItem(page, title).getByRole('alert')).toContainText(
    `Couldn't mark “${title}” as done: Can't save right now.`,
  );
  await expectNoAxeViolations(page, 'a refused change');
  await page.unroute('**/api/set_todo_completed');
  await page.reload();
  await expect(checkbox(page, title)).not.toBeChecked();
});

test('two tabs editing the same todo: the second is told, and keeps what it typed', async ({ page, otherPage: other }) => {
  expectHttpErrors('409 (Conflict)');
  const title = uniqueTitle('Two tabs');
  await createTodos(page, [title]);
  await openHydrated(page);
  // The other tab is another browser that was given the list's link.
  await other.goto(listUrl(page));
  await expect(other.getByRole('form', { name: 'New todo' })).toHaveAttribute('data-hydrated', 'true');

  await editButton(page, title).click();
  await editButton(other, title).click();
  await editForm(page, title).getByLabel('Title', { exact: true }).fill(`${title} from tab one`);
  await editForm(page, title).getByRole('button', { name: 'Save' }).click();
  await expect(todoItem(page, `${title} from tab one`)).toBeVisible();

  const mine = `${title} from tab two`;
  const form = editForm(other, title);
  await form.getByLabel('Title', { exact: true }).fill(mine);
  await form.getByRole('button', { name: 'Save' }).click();
  const alert = other.getByRole('alert').filter({ hasText: 'changed elsewhere' });
  await expect(alert).toContainText(`Couldn't save “${title}”`);
  await expect(alert.getByRole('link', { name: 'Reload' })).toBeVisible();
  // What tab two typed is still in its form.
  await expect(editForm(other, title).getByLabel('Title', { exact: true })).toHaveValue(mine);
  // Tab two wrote nothing, so its reads come from the replica, which may lag a moment.
  await expect(async () => {
    await other.reload();
    await expect(todoItem(other, `${title} from tab one`)).toBeVisible({ timeout: 1_000 });
  }).toPass();
});

test('filters are links: the URL holds the view, and the current one is marked', async ({ page }) => {
  const [active, done] = [uniqueTitle('Filter active'), uniqueTitle('Filter done')];
  await createTodos(page, [active, done]);
  await openHydrated(page);
  await checkbox(page, done).click();
  await expect(checkbox(page, done)).toBeChecked();
  await expect(announcement(page)).toHaveText(`Marked “${done}” as done.`);
  await expect(filterLink(page, 'All')).toHaveAttribute('aria-current', 'page');
  await page.evaluate(() => ((window as any).__samePage = true));

  await filterLink(page, 'Active').click();
  await expect(page).toHaveURL(listUrl(page, '?filter=active'));
  await expect(filterLink(page, 'Active')).toHaveAttribute('aria-current', 'page');
  await expect(filterLink(page, 'All')).not.toHaveAttribute('aria-current', /.*/);
  await expect(todoItem(page, active)).toBeVisible();
  await expect(todoItem(page, done)).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
  await expectNoAxeViolations(page, 'the Active view');

  // Completing a todo in the Active view takes it out of the view.
  await checkbox(page, active).click();
  await expect(todoItem(page, active)).toHaveCount(0);
  await expect(announcement(page)).toHaveText(`Marked “${active}” as done.`);

  await filterLink(page, 'Completed').click();
  await expect(page).toHaveURL(listUrl(page, '?filter=completed'));
  await expect(todoItem(page, done)).toBeVisible();
  await expect(todoItem(page, active)).toBeVisible();
  await page.reload();
  await expect(filterLink(page, 'Completed')).toHaveAttribute('aria-current', 'page');
  await expect(todoItem(page, done)).toBeVisible();
  await page.goBack();
  await expect(page).toHaveURL(listUrl(page, '?filter=active'));
});

test('the page has no accessibility violations, hydrated, in each state', async ({ page }) => {
  const title = uniqueTitle('Axe');
  await createTodos(page, [title]);
  await openHydrated(page);
  await expectNoAxeViolations(page, 'the list');
  await untilListReadAgain(page, () => checkbox(page, title).click());
  await expect(checkbox(page, title)).toBeChecked();
  await expectNoAxeViolations(page, 'the list with a completed todo');
  await editButton(page, title).click();
  await expect(editForm(page, title)).toBeVisible();
  await expectNoAxeViolations(page, 'an open edit form');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Add todo' }).click();
  await expect(page.getByText("Title can't be empty.")).toBeVisible();
  await expectNoAxeViolations(page, 'the create form with an error');
});
