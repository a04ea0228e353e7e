"""The people and their accounts: merchants and stores, traders and requisites,
users, the admin's and the merchant's views."""
