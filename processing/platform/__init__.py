"""The platform's own data: settings an administrator changes at run time, reference lists."""
