-- The indicator catalogue, true to the paper (EUCPN, "Darknet drug markets:
-- recommendations drawn from a barrier model", section 2.1.C and the model's
-- table): an indicator may belong to several stages, and each says where it
-- comes from — the paper, or the practice of the agencies using the registry.
--   * Increased use of bitcoin ATMs is a signal of stage 4, shipping (not selling).
--   * Lifestyle mismatching income is a signal of stages 1 to 3 (setting up,
--     running the marketplace, selling), not of running alone.
-- `stage` stays the indicator's first stage, for the readers that show one.
ALTER TABLE signal_indicators
    ADD COLUMN stages text[],
    ADD COLUMN source text CHECK (source IN ('paper', 'practice')),
    ADD COLUMN source_note text CHECK (length(btrim(source_note)) BETWEEN 1 AND 500);

UPDATE signal_indicators SET stages = ARRAY[stage];
UPDATE signal_indicators SET stage = 'shipping', stages = ARRAY['shipping'] WHERE code = 'bitcoin_atm_use';
UPDATE signal_indicators SET stage = 'setting_up_marketplace',
       stages = ARRAY['setting_up_marketplace', 'running_marketplace', 'selling'] WHERE code = 'lifestyle_mismatching_income';

UPDATE signal_indicators SET source = 'paper', source_note = CASE code
        WHEN 'frequent_consignments' THEN 'Barrier model, stage 4 (shipping) signals'
        WHEN 'modified_delivery_vans' THEN 'Barrier model, stage 4 (shipping) signals: hiding places in modified delivery vans'
        WHEN 'bitcoin_atm_use' THEN 'Barrier model, stage 4 (shipping) signals: increased use of bitcoin ATMs'
        WHEN 'lifestyle_mismatching_income' THEN 'Barrier model, stages 1 to 3 signals'
        WHEN 'track_and_trace_off' THEN 'Section 2.1.C, the logistical example'
        WHEN 'large_cash_payments' THEN 'Section 2.1.C, the financial example'
        WHEN 'businesses_without_employees' THEN 'Section 2.1.C, the administrative example'
    END
WHERE code IN ('frequent_consignments', 'modified_delivery_vans', 'bitcoin_atm_use', 'lifestyle_mismatching_income',
               'track_and_trace_off', 'large_cash_payments', 'businesses_without_employees');
UPDATE signal_indicators SET source = 'practice', source_note = 'Added from the practice of the agencies; not named in the paper'
WHERE source IS NULL;

ALTER TABLE signal_indicators
    ALTER COLUMN stages SET NOT NULL,
    ALTER COLUMN source SET NOT NULL,
    ADD CHECK (cardinality(stages) >= 1 AND stages <@ ARRAY['setting_up_marketplace', 'running_marketplace', 'selling', 'shipping']),
    ADD CHECK (stage = stages[1]);
