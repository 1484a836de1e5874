import { expect, type Page, test } from '@playwright/test';
import { openLab } from './helpers';

/** Every control of the Distillation panel's forms (method, parameters, labels, student and settings) by test id. */
const formOf = (page: Page) =>
  page
    .getByTestId('panel-distillation')
    .locator('.distill-forms')
    .evaluate((forms) =>
      Object.fromEntries(
        Array.from(
          forms.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select'),
          (control) => [
            control.dataset.testid ?? control.name,
            control instanceof HTMLInputElement && control.type === 'checkbox'
              ? String(control.checked)
              : control.value,
          ],
        ),
      ),
    );

async function openDistillForm(page: Page, query: string) {
  await openLab(page, query);
  await expect(page.getByTestId('distill-method')).toBeEnabled();
}

test('Copy link: a non-default method, temperature, student and seed come back whole in a new page; bad keys are named', async ({
  page,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openDistillForm(page, '?backend=wasm');
  await expect(page.getByTestId('distill-preset')).toHaveValue('cnn-small');
  await page.getByTestId('distill-method').selectOption('dkd');
  await page.getByTestId('distill-param-temperature').fill('2.5');
  await page.getByTestId('distill-preset').selectOption('resnet8');
  await page.getByTestId('distill-seed').fill('7');
  await page.getByTestId('distill-labelled').selectOption('0.2');
  const form = await formOf(page);
  expect(form).toMatchObject({
    'distill-method': 'dkd',
    'distill-param-temperature': '2.5',
    'distill-preset': 'resnet8',
    'distill-seed': '7',
  });

  await page.getByTestId('copy-link').click();
  const status = page.getByTestId('copy-link-status');
  await expect(status).toContainText('Link copied');
  const link = (await status.getAttribute('data-link'))!;
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);
  const query = new URL(link).searchParams;
  expect(query.get('method')).toBe('dkd');
  expect(query.get('p.temperature')).toBe('2.5');
  expect(query.get('student')).toBe('resnet8');
  expect(query.get('seed')).toBe('7');
  // The address bar follows the form (debounced) too.
  await expect(page).toHaveURL(link);

  // A value the form refuses stays out of the link, and the status says so.
  await page.getByTestId('distill-lr').fill('fast');
  await page.getByTestId('copy-link').click();
  await expect(status).toContainText('values the form refuses are left out of the link');
  expect(new URL((await status.getAttribute('data-link'))!).searchParams.has('lr')).toBe(false);

  const copy = await context.newPage();
  await openDistillForm(copy, new URL(link).search);
  await expect(copy.getByTestId('distill-method')).toHaveValue('dkd');
  await expect(copy.getByTestId('distill-preset')).toHaveValue('resnet8');
  expect(await formOf(copy)).toEqual(form);
  await expect(copy.getByTestId('error-banner')).toHaveCount(0);

  // A bad value and an unknown key: named in the problems list, ignored, the rest of the link applied.
  const bad = await context.newPage();
  const badLink = new URL(link);
  badLink.searchParams.set('lr', 'fast');
  badLink.searchParams.append('colour', 'red');
  await openDistillForm(bad, badLink.search);
  await expect(bad.getByTestId('distill-seed')).toHaveValue('7');
  await expect(bad.getByTestId('error-banner')).toHaveAttribute('data-count', '2');
  await bad.getByTestId('error-older-toggle').click();
  const messages = bad.getByTestId('error-message');
  await expect(
    messages.filter({ hasText: '?colour= is ignored: it is not a setting of the lab' }),
  ).toHaveCount(1);
  await expect(
    messages.filter({
      hasText: '?lr=fast is ignored: learning rate must be a number between 0.000001 and 10',
    }),
  ).toHaveCount(1);
  expect(await formOf(bad)).toEqual(form);
  // Named once, then gone from the address bar; the form's own values are written back.
  await expect(bad).not.toHaveURL(/colour=/);
  await expect(bad).toHaveURL(/[?&]lr=0\.05(&|$)/);
});
