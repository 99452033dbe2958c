import {
  test,
  expect,
  postRefused,
  addButton,
  fillTodo,
  invalidInputs,
  listedTitles,
  listPath,
  textField,
  titleField,
  todoItem,
  todoList,
  uniqueTitle,
  validationRules,
} from './support';

// This project runs with JavaScript disabled (playwright.config.ts): every create is a
// plain HTML form post, answered by a redirect back to the list's page.

test('JavaScript really is off', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('form', { name: 'New todo' })).toHaveAttribute('data-hydrated', 'false');
});

test('creates a todo with a full-page post and comes back to the list', async ({ page }) => {
  await page.goto('/');
  const title = uniqueTitle('No-JS create');
  const list = listPath(page);
  await fillTodo(page, title, 'posted as a form');

  await Promise.all([page.waitForURL((url) => url.pathname === list), addButton(page).click()]);

  await expect(todoItem(page, title)).toBeVisible();
  await expect(todoItem(page, title)).toContainText('posted as a form');
  expect(new URL(page.url()).search).not.toContain('__err');
  await expect(titleField(page)).toHaveValue('');
});

for (const [index, rule] of validationRules.entries()) {
  test(`the server rejects ${rule}, keeps the input and stores nothing`, async ({ page }) => {
    const marker = uniqueTitle('invalid');
    const input = invalidInputs(marker)[index];
    await page.goto('/');
    const list = listPath(page);
    await fillTodo(page, input.title, input.text);

    await postRefused(page, 422, () => addButton(page).click());

    const field = input.field === 'title' ? titleField(page) : textField(page);
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(field).toHaveAccessibleDescription(input.message);
    await expect(titleField(page)).toHaveValue(input.title);
    await expect(textField(page)).toHaveValue(input.text);
    // No script moves the address bar: it shows the form's action, no input in it.
    expect(new URL(page.url()).pathname).toBe('/api/create_todo');
    expect(new URL(page.url()).search).toBe('');
    await page.goto(list);
    await expect(todoList(page).getByText(marker)).toHaveCount(0);
  });
}

test('HTML typed into a todo is shown as text', async ({ page }) => {
  await page.goto('/');
  const title = `<em>${uniqueTitle('no-JS markup')}</em>`;
  await fillTodo(page, title, '</textarea><b>not bold</b>');
  const list = listPath(page);
  await Promise.all([page.waitForURL((url) => url.pathname === list), addButton(page).click()]);
  const item = todoItem(page, title);
  await expect(item).toBeVisible();
  await expect(item).toContainText('</textarea><b>not bold</b>');
  await expect(item.locator('em, b')).toHaveCount(0);
});

test('a new todo is there on every reload, 20 times in a row', async ({ page }) => {
  await page.goto('/');
  const list = listPath(page);
  for (let round = 1; round <= 20; round++) {
    const title = uniqueTitle(`No-JS reload ${round}`);
    await fillTodo(page, title, '');
    await Promise.all([page.waitForURL((url) => url.pathname === list), addButton(page).click()]);
    await expect(todoItem(page, title)).toBeVisible();
    await page.reload();
    await expect(todoItem(page, title)).toBeVisible();
  }
  // Newest first; the list is this test's own, so it holds the 20 and nothing else.
  const titles = await listedTitles(page);
  expect(titles).toHaveLength(20);
  expect(titles.every((title) => title.startsWith('No-JS reload '))).toBe(true);
  expect(titles[0]).toContain('No-JS reload 20');
  expect(titles[19]).toContain('No-JS reload 1 ');
});
