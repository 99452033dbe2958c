import { defineListTests, copyLinkButton, linkField, shareSection } from './lists';
import { test, expect, listUrl } from './support';

// As lists.spec.ts, with JavaScript disabled (playwright.config.ts): every control a
// plain form post or link.
defineListTests({ hydrated: false });

test('the link is there to copy by hand, and there is no "Copy link" button', async ({ page }) => {
  await page.goto('/');
  await expect(linkField(page)).toHaveValue(listUrl(page));
  await expect(shareSection(page)).toContainText('Anyone with this link can see and change this list.');
  await expect(copyLinkButton(page)).toHaveCount(0);
  await expect(shareSection(page).getByRole('button')).toHaveCount(0);
});
