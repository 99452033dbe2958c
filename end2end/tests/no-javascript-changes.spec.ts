import {
  test,
  expect,
  postRefused,
  checkbox,
  createTodos,
  deleteButton,
  editButton,
  editForm,
  expectNoAxeViolations,
  filterLink,
  itemsLeft,
  listIdOf,
  listPath,
  listUrl,
  sameOrigin,
  todoItem,
  uniqueTitle,
} from './support';

// With JavaScript disabled (playwright.config.ts), every control is a plain HTML form:
// the browser posts it, the server redirects back to the list's page, the page shows
// the result. Each test's browser has a list of its own; bulk-*.spec.ts has the
// controls for all todos.

test('marks a todo done and not done with a form post, on the same view', async ({ page }) => {
  const title = uniqueTitle('No-JS toggle');
  await createTodos(page, [title]);
  await page.goto(listUrl(page, '?filter=all'));

  await Promise.all([page.waitForEvent('load'), checkbox(page, title).click()]);
  await expect(page).toHaveURL(listUrl(page, '?filter=all'));
  await expect(checkbox(page, title)).toBeChecked();
  await expect(itemsLeft(page)).toHaveText('0 items left');

  await Promise.all([page.waitForEvent('load'), checkbox(page, title).click()]);
  await expect(checkbox(page, title)).not.toBeChecked();
  await expect(itemsLeft(page)).toHaveText('1 item left');
});

test('edits a todo: Edit opens the form on the server, Save stores it and closes it', async ({ page }) => {
  const title = uniqueTitle('No-JS edit');
  await createTodos(page, [title]);
  await page.goto('/');

  await Promise.all([page.waitForURL(/edit=\d+/), editButton(page, title).click()]);
  const form = editForm(page, title);
  await expect(form).toBeVisible();
  await expect(form.getByLabel('Title', { exact: true })).toHaveValue(title);
  await expectNoAxeViolations(page, 'an edit form without JavaScript');

  const renamed = `${title} renamed`;
  await form.getByLabel('Title', { exact: true }).fill(renamed);
  await form.getByLabel('Text', { exact: true }).fill('edited </textarea><b>without</b> script');
  await Promise.all([page.waitForURL((url) => url.search === ''), form.getByRole('button', { name: 'Save' }).click()]);
  await expect(todoItem(page, renamed)).toContainText('edited </textarea><b>without</b> script');
  await expect(editForm(page, renamed)).toHaveCount(0);
});

test('an invalid edit comes back with the message and what was typed', async ({ page }) => {
  const title = uniqueTitle('No-JS invalid edit');
  await createTodos(page, [title]);
  await page.goto('/');
  await Promise.all([page.waitForURL(/edit=\d+/), editButton(page, title).click()]);
  const form = editForm(page, title);
  await form.getByLabel('Title', { exact: true }).fill(' ');
  await form.getByLabel('Text', { exact: true }).fill('kept text');

  await postRefused(page, 422, () => form.getByRole('button', { name: 'Save' }).click());
  const field = editForm(page, title).getByLabel('Title', { exact: true });
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAccessibleDescription("Title can't be empty.");
  await expect(editForm(page, title).getByLabel('Text', { exact: true })).toHaveValue('kept text');
  await expectNoAxeViolations(page, 'an invalid edit without JavaScript');

  // Cancel is a link back to the list; the todo is unchanged.
  await editForm(page, title).getByRole('link', { name: 'Cancel' }).click();
  await expect(editForm(page, title)).toHaveCount(0);
  await expect(todoItem(page, title)).toBeVisible();
});

test('deletes a todo with a form post', async ({ page }) => {
  const title = uniqueTitle('No-JS delete');
  await createTodos(page, [title]);
  await page.goto('/');
  const list = listPath(page);
  await Promise.all([page.waitForURL((url) => url.pathname === list), deleteButton(page, title).click()]);
  await expect(todoItem(page, title)).toHaveCount(0);
});

test('a change refused by the server is explained on the page it returns to', async ({ page }) => {
  const title = uniqueTitle('No-JS conflict');
  await createTodos(page, [title]);
  await page.goto('/');
  // Someone else changes the todo after this page was shown.
  const stale = await page.request.post('/api/set_todo_completed', {
    form: {
      list: listIdOf(page),
      id: (await todoItem(page, title).getAttribute('id'))!.replace('todo-', ''),
      completed: 'true',
    },
    headers: sameOrigin(),
  });
  expect(stale.status()).toBe(200);

  await postRefused(page, 409, () => deleteButton(page, title).click());
  await expect(page.getByRole('alert')).toContainText('changed elsewhere');
  await expect(todoItem(page, title)).toBeVisible();
  await expectNoAxeViolations(page, 'a refused change without JavaScript');
});

test('filters are plain links, and the current one is marked', async ({ page }) => {
  const [active, done] = [uniqueTitle('No-JS active'), uniqueTitle('No-JS done')];
  await createTodos(page, [active, done]);
  await page.goto('/');
  const list = listPath(page);
  await Promise.all([page.waitForURL((url) => url.pathname === list), checkbox(page, done).click()]);

  await filterLink(page, 'Active').click();
  await expect(page).toHaveURL(listUrl(page, '?filter=active'));
  await expect(filterLink(page, 'Active')).toHaveAttribute('aria-current', 'page');
  await expect(todoItem(page, active)).toBeVisible();
  await expect(todoItem(page, done)).toHaveCount(0);

  await filterLink(page, 'Completed').click();
  await expect(todoItem(page, done)).toBeVisible();
  await expect(todoItem(page, active)).toHaveCount(0);
  await expectNoAxeViolations(page, 'the Completed view without JavaScript');

  // Unchecking in the Completed view returns to that view, without the todo.
  await expect(page).toHaveURL(listUrl(page, '?filter=completed'));
  await Promise.all([page.waitForEvent('load'), checkbox(page, done).click()]);
  await expect(page).toHaveURL(listUrl(page, '?filter=completed'));
  await expect(todoItem(page, done)).toHaveCount(0);
});

test('the page has no accessibility violations without JavaScript', async ({ page }) => {
  await createTodos(page, [uniqueTitle('No-JS axe')]);
  await page.goto('/');
  await expectNoAxeViolations(page, 'the list without JavaScript');
});
