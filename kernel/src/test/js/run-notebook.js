// Opens a notebook in the classic Jupyter Notebook UI with Debian's Chromium (Playwright, no downloaded browser),
// runs every cell through the Cell > Run All menu, waits until the kernel is idle, and writes what the page's DOM
// shows to OUT/result.json plus a full-page screenshot OUT/<name>.png. NotebookBrowserIT asserts on result.json.
//
// usage: node run-notebook.js <server url> <token> <notebook path on the server> <out dir> <timeout seconds>
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [url, token, notebook, outDir, timeoutArg] = process.argv.slice(2);
const timeoutMs = Number(timeoutArg) * 1000;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function log(msg) {
    console.log(`[browser ${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

// Installed in the page before Run All. The classic notebook redraws an output for update_display_data by
// replacing its .output_area element (OutputArea._safe_append -> replaceWith), so an in-place progress update is one
// mutation that removes an .output_area holding a <progress> and adds one in the same place; a line appended per
// update would instead show up as an added .output_area with no removal.
function watchProgress() {
    const stats = { replacements: 0, valueChanges: 0, appended: 0, samples: [] };
    const progressOf = (n) => (n.nodeType === 1 && n.classList.contains('output_area')
        ? n.querySelector('progress') : null);
    new MutationObserver((records) => {
        for (const r of records) {
            const added = [...r.addedNodes].map(progressOf).filter(Boolean);
            const removed = [...r.removedNodes].map(progressOf).filter(Boolean);
            if (added.length && removed.length) {
                stats.replacements++;
                const before = removed[0].closest('.output_area').textContent.trim();
                const after = added[0].closest('.output_area').textContent.trim();
                if (before !== after) stats.valueChanges++;
                if (stats.samples.length < 6) stats.samples.push({ before, after });
            } else if (added.length) {
                stats.appended += added.length;
            }
        }
    }).observe(document.querySelector('#notebook-container'), { childList: true, subtree: true });
    window.__progressStats = stats;
}

// What the executed notebook shows, read from the DOM only.
function readPage() {
    const prompts = [...document.querySelectorAll('.code_cell .input_prompt')].map((p) => p.textContent.trim());
    const tables = [...document.querySelectorAll('.output_area .output_html table')];
    const images = [...document.querySelectorAll('.output_area .output_png img, .output_area .output_svg img')];
    const svgs = [...document.querySelectorAll('.output_area .output_svg svg')];
    const progress = [...document.querySelectorAll('.output_area progress')];
    return {
        codeCells: prompts.length,
        prompts,
        errors: [...document.querySelectorAll('.output_area .output_error')].map((e) => e.textContent.slice(0, 2000)),
        htmlTables: tables.length,
        tableHeaders: tables.map((t) => [...t.querySelectorAll('th')].map((th) => th.textContent.trim()).join('|')),
        tableCaptions: tables.map((t) => (t.querySelector('caption') || { textContent: '' }).textContent.trim()),
        dataImages: images.filter((i) => i.src.startsWith('data:image/')).length,
        decodedImages: images.filter((i) => i.src.startsWith('data:image/') && i.complete && i.naturalWidth > 0).length,
        svgCharts: svgs.length,
        progressLines: progress.length,
        progressFinished: progress.filter((p) => p.max > 0 && p.value >= p.max).length,
        progressTexts: progress.map((p) => p.closest('.output_area').textContent.trim()),
        kernelName: (document.querySelector('.kernel_indicator_name') || { textContent: '' }).textContent.trim(),
        progressStats: window.__progressStats,
    };
}

async function main() {
    fs.mkdirSync(outDir, { recursive: true });
    const t0 = Date.now();
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        chromiumSandbox: false,
        // No connections to Google's services: this machine's network is closed (docs/kernel.md, "Browser test").
        args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync'],
    });
    const result = { ok: false };
    try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
        page.on('pageerror', (e) => log(`page error: ${e.message}`));
        await page.goto(`${url}notebooks/${encodeURIComponent(notebook)}?token=${token}`);
        await page.waitForSelector('#kernel_indicator_icon.kernel_idle_icon', { timeout: 120000 });
        result.kernelReadySeconds = (Date.now() - t0) / 1000;
        log(`kernel idle after ${result.kernelReadySeconds} s`);
        await page.evaluate(watchProgress);

        const tRun = Date.now();
        await page.click('#celllink');
        await page.click('#run_all_cells > a');
        // Run All marks every code cell "In [*]" at once; done when no prompt has a star and the kernel is idle.
        await page.waitForFunction(() => [...document.querySelectorAll('.code_cell .input_prompt')]
            .some((p) => /\[[*0-9]/.test(p.textContent)), null, { timeout: 60000 });
        let last = '';
        while (true) {
            const s = await page.evaluate(() => ({
                busy: [...document.querySelectorAll('.code_cell .input_prompt')]
                    .filter((p) => p.textContent.includes('*')).length,
                idle: !!document.querySelector('#kernel_indicator_icon.kernel_idle_icon'),
                dead: !!document.querySelector('#kernel_indicator_icon.kernel_dead_icon'),
            }));
            if (s.busy === 0 && s.idle) break;
            if (s.dead) throw new Error('the kernel died');
            if (Date.now() - tRun > timeoutMs) throw new Error(`cells still running after ${timeoutArg} s`);
            const line = `${s.busy} cells queued or running`;
            if (line !== last) log(line);
            last = line;
            await page.waitForTimeout(1000);
        }
        result.runAllSeconds = (Date.now() - tRun) / 1000;
        log(`Run All finished in ${result.runAllSeconds} s`);
        Object.assign(result, await page.evaluate(readPage));

        // The notebook scrolls inside #site; let the page grow so the full-page screenshot holds every cell.
        await page.addStyleTag({ content: 'html, body { height: auto !important; overflow: visible !important; '
            + 'position: static !important; } #site { height: auto !important; overflow: visible !important; }' });
        const shot = path.join(outDir, path.basename(notebook, '.ipynb') + '.png');
        await page.screenshot({ path: shot, fullPage: true });
        result.screenshot = shot;
        result.ok = true;
    } catch (e) {
        result.failure = String(e && e.stack || e);
        log(`failed: ${result.failure}`);
        const pages = browser.contexts().flatMap((c) => c.pages());
        if (pages.length) await pages[0].screenshot({ path: path.join(outDir, 'failure.png') }).catch(() => {});
    } finally {
        result.totalSeconds = (Date.now() - t0) / 1000;
        fs.writeFileSync(path.join(outDir, 'result.json'), JSON.stringify(result, null, 2));
        await browser.close();
    }
    process.exit(result.ok ? 0 : 1);
}

main().catch((e) => {
    console.error(e);
    process.exit(2);
});
