/** Work that runs after a response has been written, like Starlette's background tasks. */
package dev.robots.background;
