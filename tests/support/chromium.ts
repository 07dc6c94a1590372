/**
 * Debian's Chromium, headless, for tests that look at the demo page
 * (playwright-core drives it; never `npx playwright install`).
 *
 * @module
 */
import { chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_INSTALL = "apt-get install -y chromium";

/** True when Debian's Chromium is installed. */
export function hasChromium(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** A headless Chromium on a fresh profile; `close()` quits it and removes the profile. */
export async function launchChromium(
  viewport = { width: 1280, height: 1000 },
): Promise<{ page: Page; close(): Promise<void> }> {
  const profile = await Deno.makeTempDir({ prefix: "leak-lab-chromium-" });
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport,
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  return {
    page,
    async close() {
      await browser.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
