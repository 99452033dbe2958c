import { test as plainTest } from '@playwright/test';
import {
  test,
  expect,
  addButton,
  fillTodo,
  form,
  invalidInputs,
  LIST_URL,
  freshListId,
  listedTitles,
  listIdOf,
  listPath,
  openHydrated,
  postRefused,
  sameOrigin,
  textField,
  titleField,
  todoItem,
  todoList,
  uniqueTitle,
  validationRules,
} from './support';

test('the page names the list and the app', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveTitle('My tasks · Tasks');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('My tasks');
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
  await expect(page.getByRole('banner').getByRole('link', { name: 'Tasks', exact: true })).toHaveAttribute('href', '/');
});

// Without the WebAssembly bundle the page can never hydrate: whatever shows was
// rendered by the server, in the first response.
plainTest('todos are server-rendered, before any hydration', async ({ page }) => {
  const title = uniqueTitle('Server-rendered');
  await page.route('**/*.wasm', (route) => route.abort());
  await page.goto('/');
  // page.request shares the page's cookies, so the read-your-writes cookie applies.
  const created = await page.request.post('/api/create_todo', {
    form: { list: listIdOf(page), title, text: 'from the API' },
    headers: sameOrigin(),
  });
  expect(created.status()).toBe(200);

  await page.reload();
  const item = todoItem(page, title);
  await expect(item).toBeVisible();
  await expect(item).toContainText('from the API');
  await expect(form(page)).toHaveAttribute('data-hydrated', 'false');
});

test('creates a todo without reloading the page', async ({ page }) => {
  await openHydrated(page);
  const title = uniqueTitle('Hydrated create');
  let navigations = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  await page.evaluate(() => ((window as any).__samePage = true));

  await fillTodo(page, title, 'Line one\nLine two');
  const response = page.waitForResponse('**/api/create_todo');
  await addButton(page).click();
  expect((await response).status()).toBe(200);

  const item = todoItem(page, title);
  await expect(item).toBeVisible();
  await expect(item).toContainText('Line one\nLine two');
  const datetime = await item.locator('time').getAttribute('datetime');
  expect(datetime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(Math.abs(Date.parse(datetime!) - Date.now())).toBeLessThan(5 * 60_000);

  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
  expect(navigations).toBe(0);
  await expect(titleField(page)).toHaveValue('');
  await expect(textField(page)).toHaveValue('');
});

for (const [index, rule] of validationRules.entries()) {
  test(`rejects ${rule} in the browser, before sending anything`, async ({ page }) => {
    const marker = uniqueTitle('invalid');
    const input = invalidInputs(marker)[index];
    await openHydrated(page);
    let creates = 0;
    page.on('request', (request) => {
      if (request.url().includes('/api/create_todo')) creates += 1;
    });

    await fillTodo(page, input.title, input.text);
    await addButton(page).click();

    const field = input.field === 'title' ? titleField(page) : textField(page);
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(field).toHaveAccessibleDescription(input.message);
    await expect(field).toBeFocused();
    // What the user typed stays.
    await expect(titleField(page)).toHaveValue(input.title);
    await expect(textField(page)).toHaveValue(input.text);
    expect(creates).toBe(0);
    await page.reload();
    await expect(todoList(page).getByText(marker)).toHaveCount(0);
  });
}

test('an error goes away once the field is fixed, and the todo is then created', async ({ page }) => {
  await openHydrated(page);
  await addButton(page).click();
  await expect(titleField(page)).toHaveAccessibleDescription("Title can't be empty.");

  const title = uniqueTitle('Fixed');
  await titleField(page).fill(title);
  await expect(titleField(page)).toHaveAttribute('aria-invalid', 'false');
  await expect(page.getByText("Title can't be empty.")).toHaveCount(0);
  await addButton(page).click();
  await expect(todoItem(page, title)).toBeVisible();
});

test('a create refused before the page hydrated comes back at the list URL, hydrated, with the input', async ({ page }) => {
  // The app's script answered by a stand-in that does nothing: the page stays as the
  // server sent it, so the form posts as a plain form, as on a slow connection.
  const appScript = /\/pkg\/[^/]*\.js$/;
  await page.route(appScript, (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      headers: { 'cache-control': 'no-store' },
      body: 'export default async function init() {}\nexport function hydrate() {}\n',
    }),
  );
  await page.goto('/');
  await expect(page).toHaveURL(LIST_URL);
  const list = listPath(page);
  await fillTodo(page, '   ', 'typed before the page hydrated');
  await expect(form(page)).not.toHaveAttribute('data-hydrated', 'true');
  await page.unroute(appScript);

  await postRefused(page, 422, () => addButton(page).click());
  // The refused post's page puts the list's URL back and then hydrates with the error.
  await expect(form(page)).toHaveAttribute('data-hydrated', 'true');
  expect(new URL(page.url()).pathname).toBe(list);
  expect(new URL(page.url()).search).toBe('');
  await expect(titleField(page)).toHaveAttribute('aria-invalid', 'true');
  await expect(titleField(page)).toHaveAccessibleDescription("Title can't be empty.");
  await expect(textField(page)).toHaveValue('typed before the page hydrated');

  // Hydrated, the form works as usual: fixed, it is sent without a page load.
  const title = uniqueTitle('Fixed after a refused post');
  await titleField(page).fill(title);
  await addButton(page).click();
  await expect(todoItem(page, title)).toBeVisible();
  expect(new URL(page.url()).pathname).toBe(list);
  // A reload gets the list, not the refused post again.
  await page.reload();
  await expect(titleField(page)).toHaveAttribute('aria-invalid', 'false');
  await expect(todoItem(page, title)).toBeVisible();
});

test('the server rejects bad input with a 4xx even when the browser is bypassed', async ({ request }) => {
  const response = await request.post('/api/create_todo', {
    form: { list: freshListId(), title: ' ', text: '' },
    headers: sameOrigin(),
  });
  expect(response.status()).toBe(422);
  expect(await response.text()).not.toMatch(/sql|relation|panick/i);
});

test('shows a pending create and cannot submit it twice', async ({ page }) => {
  await openHydrated(page);
  // Hold the request so the pending state can be observed.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/api/create_todo', async (route) => {
    await held;
    await route.continue();
  });
  const title = uniqueTitle('Pending');
  await fillTodo(page, title, '');

  await addButton(page).click();
  await expect(addButton(page)).toBeDisabled();
  await expect(form(page)).toHaveAttribute('aria-busy', 'true');
  // A second submission by any route (Enter, a script) is ignored while pending.
  await form(page).evaluate((element: HTMLFormElement) => element.requestSubmit());
  await titleField(page).press('Enter');

  release();
  await expect(todoItem(page, title)).toBeVisible();
  await expect(addButton(page)).toBeEnabled();
  await expect(form(page)).toHaveAttribute('aria-busy', 'false');
  await page.reload();
  await expect(todoItem(page, title)).toHaveCount(1);
});

test('HTML typed into a todo is shown as text, never run', async ({ page }) => {
  await openHydrated(page);
  const title = `<b>bold</b><img src=x onerror="window.__xss=1"> ${uniqueTitle('markup')}`;
  const text = '<script>window.__xss=2</script><i>not italic</i>';
  await fillTodo(page, title, text);
  await addButton(page).click();

  const item = todoItem(page, title);
  await expect(item).toBeVisible();
  await expect(item).toContainText(text);
  await expect(item.locator('b, img, script, i')).toHaveCount(0);
  await page.reload();
  await expect(todoItem(page, title)).toBeVisible();
  expect(await page.evaluate(() => (window as any).__xss)).toBeUndefined();
});

test('lists the newest todo first', async ({ page }) => {
  await openHydrated(page);
  const older = uniqueTitle('Older');
  const newer = uniqueTitle('Newer');
  for (const title of [older, newer]) {
    await fillTodo(page, title, '');
    await addButton(page).click();
    await expect(todoItem(page, title)).toBeVisible();
  }
  const titles = await listedTitles(page);
  expect(titles.indexOf(newer)).toBeGreaterThanOrEqual(0);
  expect(titles.indexOf(newer)).toBeLessThan(titles.indexOf(older));
});

test('a new todo is there on every reload, 20 times in a row', async ({ page }) => {
  await openHydrated(page);
  for (let round = 1; round <= 20; round++) {
    const title = uniqueTitle(`Reload ${round}`);
    await fillTodo(page, title, `round ${round}`);
    await addButton(page).click();
    await expect(todoItem(page, title)).toBeVisible();
    await page.reload();
    // The reloaded page's first HTML comes from a fresh read: it must contain the todo.
    await expect(todoItem(page, title)).toBeVisible();
    await expect(form(page)).toHaveAttribute('data-hydrated', 'true');
  }
});

test('runs under its Content-Security-Policy with no violation', async ({ page }) => {
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as any).__cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) =>
      violations.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const response = await page.goto('/');
  const policy = response!.headers()['content-security-policy'];
  expect(policy).toContain("'nonce-");
  expect(policy).not.toContain('unsafe-inline');
  await expect(form(page)).toHaveAttribute('data-hydrated', 'true');

  // Exercise the server functions too (connect-src).
  const title = uniqueTitle('Under CSP');
  await fillTodo(page, title, '');
  await addButton(page).click();
  await expect(todoItem(page, title)).toBeVisible();
  expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);
});

test('assets have content-hashed names, long-lived caching and compression', async ({ page, request }) => {
  await page.goto('/');
  await expect(page).toHaveURL(LIST_URL);
  const stylesheet = await page.locator('link[rel="stylesheet"]').getAttribute('href');
  const script = await page.locator('link[rel="modulepreload"]').first().getAttribute('href');
  for (const asset of [stylesheet!, script!]) {
    expect(asset).toMatch(/^\/pkg\/tasks\.[\w-]+\.(css|js)$/);
    const response = await request.get(asset, { headers: { 'accept-encoding': 'br' } });
    expect(response.status()).toBe(200);
    expect(response.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers()['content-encoding']).toBe('br');
  }
  const html = await request.get(listPath(page));
  expect(html.status()).toBe(200);
  expect(html.headers()['content-type']).toContain('text/html');
  expect(html.headers()['cache-control']).toBe('no-cache');
});
