import { defineListTests, copyLinkButton, linkField, shareSection } from './lists';
import { test, expect, createTodos, freshListId, listIdOf, listUrl, openHydrated, sameOrigin, uniqueTitle } from './support';

// Lists, hydrated (the same tests without JavaScript: lists-no-javascript.spec.ts).
defineListTests({ hydrated: true });

test('"Copy link" copies the list’s link and says so', async ({ page }) => {
  await openHydrated(page);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
  const status = shareSection(page).getByRole('status');
  await expect(status).toHaveText('');

  await copyLinkButton(page).click();
  await expect(status).toHaveText('Link copied.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(listUrl(page));
  await expect(linkField(page)).toHaveValue(listUrl(page));
});

// The server's own checks, which no page of the app can get past: only the app's own
// pages may write, and a todo is reachable only through the list it belongs to.

test('the server refuses writes that do not come from the app’s own pages', async ({ request }) => {
  const post = (headers: Record<string, string>) =>
    request.post('/api/create_todo', { form: { list: freshListId(), title: uniqueTitle('Cross-site'), text: '' }, headers });
  const refused: Record<string, string>[] = [
    {},
    { origin: 'http://evil.example' },
    { origin: 'null' },
    { referer: 'http://evil.example/page' },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site', ...sameOrigin() },
  ];
  for (const headers of refused) {
    const response = await post(headers);
    expect(response.status(), JSON.stringify(headers)).toBe(403);
  }
  expect((await post({ 'sec-fetch-site': 'same-origin' })).status()).toBe(200);
  expect((await post(sameOrigin())).status()).toBe(200);
});

test('a todo is reachable only through its own list', async ({ page, request }) => {
  const title = uniqueTitle('Not yours');
  await createTodos(page, [title]);
  const list = listIdOf(page);
  const created = await page.request.post('/api/list_todos', { form: { list }, headers: sameOrigin() });
  expect(created.status()).toBe(200);
  const todo = (await created.json()).todos.find((todo: { title: string }) => todo.title === title);
  expect(todo).toBeDefined();

  const otherList = freshListId();
  for (const [path, form] of [
    ['/api/set_todo_completed', { list: otherList, id: todo.id, completed: 'true' }],
    ['/api/update_todo', { list: otherList, id: todo.id, version: todo.version, title: 'taken', text: '' }],
    ['/api/delete_todo', { list: otherList, id: todo.id, version: todo.version }],
  ] as const) {
    const response = await request.post(path, { form, headers: sameOrigin() });
    expect(response.status(), path).toBe(404);
  }
  // Nothing changed in its own list.
  const after = await page.request.post('/api/list_todos', { form: { list }, headers: sameOrigin() });
  const same = (await after.json()).todos.find((item: { id: number }) => item.id === todo.id);
  expect(same).toMatchObject({ title, completed: false, version: todo.version });
});
