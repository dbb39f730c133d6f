import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";

// The UI is served to the Tauri webview from ui/dist (tauri.conf.json's
// frontendDist). No inline scripts: the CSP forbids them.
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari16",
    assetsInlineLimit: 0,
  },
  // The app icon is imported from ../icons, outside this folder.
  server: { port: 1420, strictPort: true, fs: { allow: [".."] } },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.ts"],
  },
});
