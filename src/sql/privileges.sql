-------------------------------------------------------------------------------------------
-- Privileges (API.md section 5): nothing for PUBLIC. Each area's file grants its own objects
-- to insight_analyst (scoring, inspection, domain and evaluation functions) and
-- insight_admin (training, lifecycle, demo data); this last file takes PUBLIC's defaults away.
-------------------------------------------------------------------------------------------
REVOKE ALL ON ALL TABLES IN SCHEMA insight FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA insight FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA insight FROM PUBLIC;
