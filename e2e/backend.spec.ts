import { expect, test } from '@playwright/test';
import { openLab } from './helpers';

for (const backend of ['wasm', 'webgpu'] as const) {
  test(`?backend=${backend} selects ${backend}`, async ({ page }) => {
    await openLab(page, `?backend=${backend}`);
    const badge = page.getByTestId('backend-badge');
    await expect(badge).toHaveAttribute('data-backend', backend);
    await expect(badge).toContainText('requested by the user');
    await expect(page.getByTestId('backend-fallback')).toHaveCount(0);
    await expect(page.getByTestId('backend-select')).toHaveValue(backend);
    await expect(page.getByTestId('backend-adapter')).not.toBeEmpty();
  });
}

test('auto follows the rule on what this browser reports: a software GPU adapter loses to wasm', async ({
  page,
}) => {
  await openLab(page);
  const probe = async (name: string) => (await page.getByTestId(`probe-${name}`).textContent()) ?? '';
  const usable = (text: string) => !/unavailable/.test(text) && !/software fallback/.test(text);
  const [webgpu, webgl] = [await probe('webgpu'), await probe('webgl')];
  const expected = usable(webgpu) ? 'webgpu' : usable(webgl) ? 'webgl' : 'wasm';
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', expected);
  if (expected === 'wasm' && /software fallback/.test(webgpu)) {
    await expect(page.getByTestId('backend-badge')).toContainText(
      'the only GPU adapter is a software fallback',
    );
  }
});

test('an unknown ?backend is named in the banner and the automatic choice runs', async ({ page }) => {
  await openLab(page, '?backend=cuda');
  await expect(page.getByTestId('error-banner')).toContainText('?backend=cuda is not a backend');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute(
    'data-backend',
    /^(webgpu|webgl|wasm|cpu)$/,
  );
});

test('the backend can be changed from the badge, and the URL follows', async ({ page }) => {
  await openLab(page, '?backend=wasm');
  await page.getByTestId('backend-select').selectOption('cpu');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-backend', 'cpu');
  await expect(page).toHaveURL(/[?&]backend=cpu/);
  await page.getByTestId('backend-select').selectOption('auto');
  await expect(page.getByTestId('backend-badge')).toHaveAttribute('data-status', 'ready');
  await expect(page).not.toHaveURL(/backend=/);
});
