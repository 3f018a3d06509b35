-- An agency that approves more than 999,999 letters in a year keeps numbering:
-- OUT-2026-999999 is followed by OUT-2026-1000000. References keep at least six
-- digits, so every number given so far still matches.
ALTER TABLE letters DROP CONSTRAINT letters_reference_check;
ALTER TABLE letters ADD CONSTRAINT letters_reference_check CHECK (reference ~ '^OUT-[0-9]{4}-[0-9]{6,}$');
ALTER TABLE letter_reference_counters DROP CONSTRAINT letter_reference_counters_last_number_check;
ALTER TABLE letter_reference_counters ADD CONSTRAINT letter_reference_counters_last_number_check CHECK (last_number >= 0);
