import { test, expect, LIST_URL, todoList } from './support';

// scripts/test.sh gives the end-to-end server a new, empty database; this project runs
// before any other creates a todo.
test('an empty database says so and shows an empty list', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(LIST_URL);
  await expect(page.getByText('No todos yet')).toBeVisible();
  await expect(todoList(page).getByRole('listitem')).toHaveCount(0);
});
